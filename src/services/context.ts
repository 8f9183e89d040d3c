import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/database.js';
import { AttachmentRepository } from '../store/attachment.repository.js';
import { EscalationRepository } from '../store/escalation.repository.js';
import { IncidentRepository } from '../store/incident.repository.js';
import { IntakeRepository } from '../store/intake.repository.js';
import { MatrixRepository } from '../store/matrix.repository.js';
import { TeamRepository } from '../store/team.repository.js';
import { UserRepository } from '../store/user.repository.js';
import { VendorRepository } from '../store/vendor.repository.js';
import { Signer } from './secret.js';

/** Everything a use case needs from the outside world, built once at start. */
export interface Services {
  store: Store;
  clock: Clock;
  matrices: MatrixRepository;
  incidents: IncidentRepository;
  users: UserRepository;
  escalations: EscalationRepository;
  /** Inbound integrations and the messages they deliver. */
  intake: IntakeRepository;
  /** Signs e-mail references with the instance secret. */
  signer: Signer;
  /** Where people reach this instance: links in messages, the domain of e-mail references. */
  site: Site;
  attachments: AttachmentRepository;
  /** Tier teams, members, on-call rotations and overrides. */
  teams: TeamRepository;
  vendors: VendorRepository;
  /** How long a vendor's signed link opens its page. */
  vendorLinkMs: number;
}

export interface Site {
  publicUrl: string;
  mailDomain: string;
}

export interface ServiceOptions {
  secret?: string;
  site?: Partial<Site>;
  vendorLinkDays?: number;
}

/** Without a secret (tests, one-off CLI commands), signatures are valid for this process only. */
export function createServices(store: Store, clock: Clock, options: ServiceOptions = {}): Services {
  const publicUrl = (options.site?.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '');
  return {
    store,
    clock,
    matrices: new MatrixRepository(store.db),
    incidents: new IncidentRepository(store.db, store.engine),
    users: new UserRepository(store.db),
    escalations: new EscalationRepository(store.engine),
    intake: new IntakeRepository(store.db, store.engine),
    signer: new Signer(options.secret ?? randomBytes(32).toString('base64url')),
    site: { publicUrl, mailDomain: options.site?.mailDomain ?? new URL(publicUrl).hostname },
    attachments: new AttachmentRepository(store.db),
    teams: new TeamRepository(store.db),
    vendors: new VendorRepository(store.db),
    vendorLinkMs: (options.vendorLinkDays ?? 14) * 86_400_000,
  };
}
