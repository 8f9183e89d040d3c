import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/database.js';
import { AttachmentRepository } from '../store/attachment.repository.js';
import { EscalationRepository } from '../store/escalation.repository.js';
import { IncidentRepository } from '../store/incident.repository.js';
import { MatrixRepository } from '../store/matrix.repository.js';
import { UserRepository } from '../store/user.repository.js';

/** Everything a use case needs from the outside world, built once at start. */
export interface Services {
  store: Store;
  clock: Clock;
  matrices: MatrixRepository;
  incidents: IncidentRepository;
  users: UserRepository;
  escalations: EscalationRepository;
  attachments: AttachmentRepository;
}

export function createServices(store: Store, clock: Clock): Services {
  return {
    store,
    clock,
    matrices: new MatrixRepository(store.db),
    incidents: new IncidentRepository(store.db, store.engine),
    users: new UserRepository(store.db),
    escalations: new EscalationRepository(store.engine),
    attachments: new AttachmentRepository(store.db),
  };
}
