/**
 * Acceptance: `palier serve` killed with SIGKILL five times while a steady mixed load runs
 * (incident creations, manual escalations, Alertmanager alerts with some sent twice), restarted
 * each time on the same database, with an L1 acknowledge target short enough that the worker
 * escalates during the run. Every request that got a 2xx must be stored, exactly once; timelines
 * have no gaps and no repeated events; `palier audit verify` finds every chain intact; the worker
 * applied each automatic escalation once.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/domain/incident.js';
import { createIntegration } from '../../src/intake/integrations.js';
import { addUser, createApiToken } from '../../src/services/auth.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import {
  killAllChildren,
  outboxProblems,
  palierEnv,
  prepareDatabase,
  readOutcome,
  sleep,
  startPalier,
  tally,
  waitFor,
  type PalierChild,
} from '../engine/seed.js';
import { fixture } from '../intake/helpers.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';

const KILLS = 5;
const ACKNOWLEDGE_MS = 2000; // the L1 acknowledge target of P5 in this matrix, PT2S
const LANES = 6;

/** A port nobody listens on right now, so every restart can take the same one and clients keep their URL. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

describe.each(ENGINES)('palier serve killed five times under mixed load, on %s', (engine) => {
  let db: FreshDatabase | undefined;
  let probe: Store | undefined;

  afterAll(async () => {
    await killAllChildren();
    await probe?.close();
    await db?.drop();
  });

  it('keeps every acknowledged request exactly once, with intact audit chains and single automatic escalations', async () => {
    const began = Date.now();
    db = await freshDatabase(engine);
    const prepared = await prepareDatabase(db.config, `PT${ACKNOWLEDGE_MS / 1000}S`, 'PT10H');
    const s = prepared.services;
    const manager = await addUser(s, { email: 'manager@example.test', role: 'manager' });
    const admin = await addUser(s, { email: 'admin@example.test', role: 'admin' });
    // Tokens made beforehand: signing in is rate-limited, and tokens live in the database, so they outlast every kill.
    const requesterToken = (await createApiToken(s, prepared.requester, 'load', null)).token;
    const managerToken = (await createApiToken(s, { id: manager.id, role: 'manager', tiers: [] }, 'load', null)).token;
    const { integration, key } = await createIntegration(
      s,
      { id: admin.id, role: 'admin', tiers: [] },
      { kind: 'alertmanager', name: 'prod', category: 'network-downtime', impact: 3, urgency: 3 },
    );
    await prepared.store.close();

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = palierEnv(db.config, {
      PORT: String(port),
      PALIER_INTAKE_RATE_PER_MINUTE: '1000000',
      PALIER_WORKER_POLL_MS: '100',
    });
    const run = randomBytes(3).toString('hex');

    // What the server acknowledged with a 2xx: these must all be found afterwards.
    const created = new Map<string, number>(); // marker -> incident id
    const escalated: Array<{ incidentId: number; marker: string }> = [];
    const fingerprints = new Set<string>();
    const alertsNotProcessed: string[] = [];
    let alertsAcknowledged = 0;
    const statuses: Record<string, number> = {};
    let connectionErrors = 0;
    let acknowledged = 0;
    let stop = false;
    let seq = 0;

    const call = async (method: string, path: string, token: string, body: unknown): Promise<Answer | undefined> => {
      try {
        const res = await fetch(base + path, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* kept as text for the failure message */
        }
        if (res.status < 300) acknowledged++;
        return { status: res.status, body: parsed };
      } catch {
        // Refused, reset or cut off by the kill: not acknowledged, so not counted.
        connectionErrors++;
        await sleep(20);
        return undefined;
      }
    };

    const alertBody = (fingerprint: string) => {
      const payload = fixture('alertmanager-v4-firing.json');
      const alert = payload.alerts[0];
      alert.fingerprint = fingerprint;
      alert.labels.instance = `https://host-${fingerprint}.example.org`;
      payload.alerts = [alert];
      payload.groupKey = `{}:{fingerprint="${fingerprint}"}`;
      return payload;
    };

    const lane = async () => {
      while (!stop) {
        const n = ++seq;
        const pick = Math.random();
        const ids = [...created.values()];
        if (pick < 0.45 || ids.length === 0) {
          const marker = `crash-${run}-${n}`;
          const res = await call('POST', '/api/v1/incidents', requesterToken, {
            title: `Printer queue stalled [${marker}]`,
            description: `Spooler stops after each job (${marker})`,
            category: 'software-installation-failure',
            impact: 3,
            urgency: 3,
          });
          if (res?.status === 201) created.set(marker, res.body.id as number);
        } else if (pick < 0.65) {
          const incidentId = ids[Math.floor(Math.random() * ids.length)]!;
          const marker = `manual-${run}-${n}`;
          const res = await call('POST', `/api/v1/incidents/${incidentId}/escalate`, managerToken, {
            reason: `Needs the next tier (${marker})`,
          });
          if (res && res.status < 300) escalated.push({ incidentId, marker });
        } else {
          // One alert in four is a fingerprint already acknowledged: Alertmanager repeats firing alerts.
          const known = [...fingerprints];
          const fingerprint =
            known.length > 0 && Math.random() < 0.25
              ? known[Math.floor(Math.random() * known.length)]!
              : `${run}${n.toString(16).padStart(8, '0')}`;
          const res = await call('POST', '/api/v1/intake/alertmanager', key, alertBody(fingerprint));
          if (res && res.status < 300) {
            fingerprints.add(fingerprint);
            alertsAcknowledged++;
            if (res.body.processing !== 'processed') alertsNotProcessed.push(`${fingerprint}: ${JSON.stringify(res.body)}`);
          }
        }
      }
    };

    const up = async (child: PalierChild) => {
      try {
        await waitFor(
          async () => {
            if (child.process.exitCode !== null) throw new Error(`${child.label} exited`);
            try {
              return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200 ? true : undefined;
            } catch {
              return undefined;
            }
          },
          60_000,
          `${child.label} to answer /healthz`,
          50,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- output:\n${child.output()}`);
      }
    };

    // Start the load against the first server, then kill and restart at random moments.
    let child = startPalier(['serve'], env, 'palier serve #1');
    await up(child);
    const lanes = Array.from({ length: LANES }, lane);
    const perRun: number[] = [];
    try {
      for (let k = 1; k <= KILLS; k++) {
        const before = acknowledged;
        // Long enough to reach steady load after a restart, random so the kill lands anywhere in a request.
        const ran = Date.now();
        await waitFor(async () => (acknowledged - before >= 20 ? true : undefined), 30_000, `load on palier serve #${k}`, 20);
        await sleep(Math.max(0, 1000 + Math.random() * 2000 - (Date.now() - ran)));
        await child.kill('SIGKILL');
        perRun.push(acknowledged - before);
        expect((await child.exited).signal).toBe('SIGKILL');
        child = startPalier(['serve'], env, `palier serve #${k + 1}`);
        await up(child);
      }
      // The last server keeps the load a little longer, then the clients stop.
      const before = acknowledged;
      await sleep(1500);
      perRun.push(acknowledged - before);
    } finally {
      stop = true;
      await Promise.all(lanes);
    }

    // The worker must catch up with every L1 deadline that fell due: nothing P5 left unacknowledged at L1.
    probe = openStore(db.config);
    const settleFrom = Date.now();
    await waitFor(
      async () => {
        const left = await probe!.db
          .selectFrom('incidents')
          .select('id')
          .where('priority', '=', 'P5')
          .where('tier', '=', 'L1')
          .where('status', '=', 'new')
          .where('created_at', '<', settleFrom - ACKNOWLEDGE_MS + 1000)
          .execute();
        return left.length === 0 ? true : undefined;
      },
      30_000,
      'the worker to escalate every incident past its L1 acknowledge target',
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- output:\n${child.output()}`);
    });
    await child.kill('SIGTERM');

    const outcome = await readOutcome(probe);
    const rows = await probe.db
      .selectFrom('incidents')
      .select(['id', 'title', 'priority', 'requester_id', 'created_at'])
      .execute();

    // Every acknowledged creation: present exactly once, under the id the server answered. No marker twice at all.
    const byMarker = new Map<string, number[]>();
    for (const r of rows) {
      const marker = /\[(crash-[^\]]+)\]/.exec(r.title)?.[1];
      if (marker) byMarker.set(marker, [...(byMarker.get(marker) ?? []), Number(r.id)]);
    }
    const lostOrDoubled = [...created].filter(([marker, id]) => JSON.stringify(byMarker.get(marker)) !== JSON.stringify([id]));
    expect(lostOrDoubled.slice(0, 5), 'acknowledged creations missing, doubled or under another id').toEqual([]);
    expect([...byMarker].filter(([, ids]) => ids.length > 1).slice(0, 5), 'creations stored twice').toEqual([]);

    // Every acknowledged alert fingerprint: one correlation, one incident; no incident of the integration without one.
    const correlations = await probe.db
      .selectFrom('intake_correlations')
      .select(['key', 'incident_id'])
      .where('integration_id', '=', integration.id)
      .execute();
    const byKey = tally(correlations, (c) => c.key);
    const missingAlerts = [...fingerprints].filter((f) => byKey[`fp:${f}`] !== 1);
    expect(missingAlerts.slice(0, 5), 'acknowledged fingerprints without exactly one incident').toEqual([]);
    expect(
      Object.entries(byKey).filter(([, n]) => n > 1),
      'fingerprints tied to several incidents',
    ).toEqual([]);
    const alertIncidents = rows.filter((r) => r.requester_id === integration.systemUserId).map((r) => Number(r.id));
    expect(new Set(correlations.map((c) => Number(c.incident_id)))).toEqual(new Set(alertIncidents));
    // Each alert acknowledged was processed before the answer; messages a kill left received were processed at the next start.
    expect(alertsNotProcessed.slice(0, 5), 'alerts answered 2xx without being processed').toEqual([]);
    const messages = await probe.db
      .selectFrom('inbound_messages')
      .select(['status'])
      .where('integration_id', '=', integration.id)
      .execute();
    expect(tally(messages, (m) => m.status)).toEqual({ processed: messages.length });
    expect(messages.length).toBeGreaterThanOrEqual(alertsAcknowledged);

    // Every acknowledged manual escalation is in its incident's timeline, once.
    const eventsOf = (id: number): IncidentEvent[] => outcome.events.get(id) ?? [];
    const reasonOf = (e: IncidentEvent) => String((e.data as { reason?: string }).reason ?? '');
    const manualMissing = escalated.filter(
      ({ incidentId, marker }) =>
        eventsOf(incidentId).filter((e) => e.kind === 'escalated' && reasonOf(e).includes(`(${marker})`)).length !== 1,
    );
    expect(manualMissing.slice(0, 5), 'acknowledged escalations missing or doubled in the timeline').toEqual([]);

    // Timelines: seq 1..n without gaps, the projection at the last event, no threshold recorded twice.
    const problems: string[] = [];
    for (const [id, incident] of outcome.incidents) {
      const events = eventsOf(id);
      events.forEach((e, i) => {
        if (e.seq !== i + 1) problems.push(`incident ${id}: event #${i} has seq ${e.seq}`);
      });
      if (events[0]?.kind !== 'created') problems.push(`incident ${id}: first event ${events[0]?.kind}`);
      if (incident.seq !== events.at(-1)?.seq)
        problems.push(`incident ${id}: projection seq ${incident.seq}, last event ${events.at(-1)?.seq}`);
      const manual = events.filter((e) => e.kind === 'escalated' && !(e.data as { automatic?: boolean }).automatic).map(reasonOf);
      if (new Set(manual).size !== manual.length) problems.push(`incident ${id}: a manual escalation twice`);
      for (const kind of ['deadline_warning', 'deadline_missed'] as const) {
        const clocks = events.filter((e) => e.kind === kind).map((e) => (e.data as { clock: string }).clock);
        if (new Set(clocks).size !== clocks.length)
          problems.push(`incident ${id}: ${kind} twice for one clock (${clocks.join(', ')})`);
      }
      const automatic = events
        .filter((e) => e.kind === 'escalated' && (e.data as { automatic?: boolean }).automatic)
        .map((e) => (e.data as { missed?: { clock: string } }).missed?.clock ?? reasonOf(e));
      if (new Set(automatic).size !== automatic.length)
        problems.push(`incident ${id}: automatic escalation twice (${automatic.join(', ')})`);
    }
    problems.push(...outboxProblems(outcome));
    expect(problems.slice(0, 10), `${problems.length} timeline problems`).toEqual([]);

    // Each P5 incident left L1 once: by hand before its deadline, or by the worker for that very deadline.
    const createdAt = new Map(rows.map((r) => [Number(r.id), Number(r.created_at)]));
    const wrongExits: string[] = [];
    const workers: string[] = [];
    for (const r of rows.filter((x) => x.priority === 'P5')) {
      const id = Number(r.id);
      const leftL1 = eventsOf(id).filter((e) => e.kind === 'escalated' && e.fromTier === 'L1');
      const first = leftL1[0];
      if (leftL1.length !== 1 || !first) {
        if (createdAt.get(id)! < settleFrom - ACKNOWLEDGE_MS) wrongExits.push(`incident ${id}: left L1 ${leftL1.length} times`);
        continue;
      }
      const missed = (first.data as { missed?: { clock: string; dueAt: number; worker?: string } }).missed;
      if (!missed) continue; // escalated by hand
      workers.push(missed.worker ?? '?');
      if (missed.clock !== 'L1@1:acknowledge' || missed.dueAt !== createdAt.get(id)! + ACKNOWLEDGE_MS || first.at < missed.dueAt)
        wrongExits.push(`incident ${id}: escalated for ${JSON.stringify(missed)} at ${first.at}, created ${createdAt.get(id)}`);
    }
    expect(wrongExits.slice(0, 5), 'P5 incidents that did not leave L1 exactly once, at the right time').toEqual([]);
    expect(workers.length, 'automatic escalations').toBeGreaterThan(0);

    // The audit trail, checked by the command an operator would run.
    const verify = startPalier(['audit', 'verify'], env, 'palier audit verify');
    const exit = await Promise.race([verify.exited, sleep(60_000).then(() => undefined)]);
    if (!exit) await verify.kill();
    expect(exit, verify.output()).toEqual({ code: 0, signal: null });
    expect(verify.output()).toContain(`Audit chains verified: ${outcome.incidents.size} incidents`);

    const fivexx = Object.entries(statuses).filter(([status]) => Number(status) >= 500);
    console.log(
      `[crash-under-load/${engine}] ${KILLS} kills; 2xx per server run ${JSON.stringify(perRun)}; statuses ${JSON.stringify(statuses)}, ` +
        `${connectionErrors} connection errors; acknowledged: ${created.size} creations, ${escalated.length} manual escalations, ` +
        `${fingerprints.size} alert fingerprints; ${outcome.incidents.size} incidents stored; automatic escalations by process ` +
        `${JSON.stringify(tally(workers, (w) => w))}; ${Date.now() - began} ms in all`,
    );
    expect(
      perRun.every((n) => n > 0),
      'every server run acknowledged requests before it was killed',
    ).toBe(true);
    expect(fivexx, 'server errors').toEqual([]);
  }, 180_000);
});
