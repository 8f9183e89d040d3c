import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/policy.js';
import { addUser } from '../../src/services/auth.service.js';
import { createServices } from '../../src/services/context.js';
import { actOnIncident } from '../../src/services/incident.service.js';
import { EscalationWorker } from '../../src/engine/worker.js';
import { openStore } from '../../src/store/database.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { createIncidentsAt, prepareDatabase, type Prepared } from './seed.js';

const kindsOf = async (p: Prepared, id: number) => (await p.services.incidents.events(id)).map((e) => e.kind);

describe.each(ENGINES)('escalation worker on %s, driven by a controlled clock', (engine) => {
  let db: FreshDatabase;
  let p: Prepared;
  let admin: Actor;
  const base = Date.parse('2026-12-01T10:00:00Z');

  beforeAll(async () => {
    db = await freshDatabase(engine);
    p = await prepareDatabase(db.config, 'PT1S');
    const user = await addUser(p.services, { email: `admin-${engine}@example.test`, role: 'admin' });
    admin = { id: user.id, role: 'admin', tiers: [] };
  });
  afterAll(async () => {
    await p?.store.close();
    await db?.drop();
  });

  it('applies due deadlines in deadline order even when one incident already had its warning', async () => {
    // A: deadline base+1000, warning recorded first; B: created later, deadline base+1200, warning not yet applied.
    const [a, b] = await createIncidentsAt(p, [base, base + 200]);
    const worker = new EscalationWorker(p.services, { batchSize: 1, name: 'w' });
    expect(await worker.runOnce(base + 800)).toBe(1);
    expect(await kindsOf(p, a!)).toEqual(['created', 'deadline_warning']);
    expect(await kindsOf(p, b!)).toEqual(['created']);
    // Both due at base+1300; with room for one, the earlier deadline (A) goes first.
    expect(await worker.runOnce(base + 1300)).toBe(1);
    expect(await kindsOf(p, a!)).toEqual(['created', 'deadline_warning', 'deadline_missed', 'escalated']);
    expect(await kindsOf(p, b!)).toEqual(['created']);
    await worker.drain(base + 1300);
    expect(await kindsOf(p, b!)).toEqual(['created', 'deadline_warning', 'deadline_missed', 'escalated']);
    // Nothing is applied twice.
    expect(await worker.drain(base + 1300)).toBe(0);
    expect(await kindsOf(p, a!)).toHaveLength(4);
  });

  it('a new process on the same database applies deadlines and commands for incidents of an older matrix version', async () => {
    const [c] = await createIncidentsAt(p, [base + 5000]);
    // A fresh store and services: nothing cached, as after a restart.
    const store = openStore(db.config);
    try {
      const s = createServices(store, { now: () => base + 5100 });
      const incident = await actOnIncident(s, admin, c!, { type: 'comment', body: 'Still there?' });
      expect(incident.seq).toBe(2);
      const worker = new EscalationWorker(s, { name: 'restarted' });
      expect(await worker.drain(base + 7000)).toBeGreaterThanOrEqual(1);
      expect(await kindsOf(p, c!)).toEqual(['created', 'commented', 'deadline_warning', 'deadline_missed', 'escalated']);
    } finally {
      await store.close();
    }
  });

  it('acknowledging cancels the pending escalation in the same transaction', async () => {
    const [d] = await createIncidentsAt(p, [base + 10_000]);
    await actOnIncident({ ...p.services, clock: { now: () => base + 10_500 } }, admin, d!, {
      type: 'acknowledge',
    });
    const worker = new EscalationWorker(p.services, { name: 'w' });
    await worker.drain(base + 20_000);
    expect(await kindsOf(p, d!)).toEqual(['created', 'acknowledged']);
  });
});
