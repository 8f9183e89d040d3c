/**
 * The escalation policy, tested as pure functions over hand-built timelines: every instant is epoch
 * ms chosen by the test, the incident is the fold of the events the test applies.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { addBusinessTime, businessTimeBetween, defaultBusinessCalendar } from '../../src/domain/calendar.js';
import { decideDue, followUps, missedAction, replayClocks } from '../../src/domain/escalation.js';
import { apply, decide, type Incident, type IncidentCommand, type IncidentEvent } from '../../src/domain/incident.js';
import { tierIndex, type MatrixDefinition } from '../../src/domain/matrix.js';
import { PRIORITIES, type Priority } from '../../src/domain/priority.js';
import { deadline, elapsed } from '../../src/domain/sla-clock.js';
import { HOUR, MINUTE, Timeline, domainErrorOf, matrixOf, numbered, type VersionedMatrix } from '../helpers/incident-builders.js';

const SEED = matrixOf();
/** A Wednesday, 11:00 in Paris; only used with 24x7 clocks or where business hours do not matter. */
const T = Date.parse('2025-03-12T10:00:00Z');
const ACK_L1_P1 = 15 * MINUTE;

/** The cell of a category at a tier, to edit a matrix copy. */
const cell = (m: MatrixDefinition, category: string, tier: string) =>
  m.cells.find((c) => c.category === category && c.tier === tier)!;
const kinds = (events: readonly IncidentEvent[]) => events.map((e) => e.kind);
const clockOf = (tl: Timeline, now: number, kind: 'acknowledge' | 'resolve' | 'category') =>
  tl.explain(now).clocks.find((c) => c.kind === kind)!;

describe('a P1 incident on the 24x7 calendar', () => {
  it('warns at 75% of the L1 acknowledge target and misses at the target', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    const ack = tl.thresholds(T).filter((t) => t.clock.id === 'L1@1:acknowledge');
    expect(ack).toEqual([
      expect.objectContaining({ type: 'warning', at: T + 0.75 * ACK_L1_P1 }),
      expect.objectContaining({ type: 'missed', at: T + ACK_L1_P1, action: 'escalate' }),
    ]);
    expect(tl.wakeUp(T)).toBe(T + 0.75 * ACK_L1_P1);
  });

  it('decideDue before the first threshold appends nothing', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    expect(tl.due(T + 0.75 * ACK_L1_P1 - 1)).toEqual([]);
  });

  it('decideDue at the miss instant appends the warning, the miss and an automatic escalation to L2, in that order', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    const miss = T + ACK_L1_P1;
    const events = tl.due(miss);
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
    expect(events.map((e) => [e.seq, e.at, e.actorId])).toEqual([
      [2, miss, null],
      [3, miss, null],
      [4, miss, null],
    ]);
    expect(events[0]!.data).toMatchObject({
      clock: 'L1@1:acknowledge',
      kind: 'acknowledge',
      tier: 'L1',
      target: 'PT15M',
      dueAt: T + 0.75 * ACK_L1_P1,
      fraction: 0.75,
    });
    expect(events[1]!.data).toMatchObject({
      clock: 'L1@1:acknowledge',
      kind: 'acknowledge',
      tier: 'L1',
      target: 'PT15M',
      dueAt: miss,
      action: 'escalate',
      worker: 'test-worker',
    });
    const escalated = events[2]!;
    expect(escalated).toMatchObject({ fromTier: 'L1', toTier: 'L2' });
    expect(escalated.data).toMatchObject({ automatic: true, missed: { clock: 'L1@1:acknowledge', dueAt: miss } });
    expect((escalated.data as { reason: string }).reason).toMatch(/L1 acknowledge target PT15M missed/);
    expect(escalated.data).not.toHaveProperty('leftActions');
    expect(tl.incident).toMatchObject({ tier: 'L2', status: 'new', escalationCount: 1, tierEnteredAt: miss });
  });

  it('a warning already recorded is not repeated when the miss falls due', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    expect(kinds(tl.due(T + 0.75 * ACK_L1_P1))).toEqual(['deadline_warning']);
    expect(kinds(tl.due(T + ACK_L1_P1 - 1))).toEqual([]);
    expect(kinds(tl.due(T + ACK_L1_P1))).toEqual(['deadline_missed', 'escalated']);
    expect(tl.ofKind('deadline_warning')).toHaveLength(1);
  });

  it('decideDue is idempotent: called again at the same instant with the new events it appends nothing', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    const first = tl.due(T + ACK_L1_P1);
    expect(first).toHaveLength(3);
    expect(decideDue(tl.incident, tl.events, SEED, T + ACK_L1_P1)).toEqual([]);
    expect(tl.due(T + ACK_L1_P1)).toEqual([]);
  });

  it("after the escalation the next wake-up is L2's acknowledge warning, and L2's thresholds are the only tier thresholds left", () => {
    const tl = Timeline.of(SEED, 'P1', T);
    const miss = T + ACK_L1_P1;
    tl.due(miss);
    const l2Ack = 15 * MINUTE; // L2 P1 acknowledge target
    expect(tl.wakeUp(miss)).toBe(miss + 0.75 * l2Ack);
    const thresholds = tl.thresholds(miss);
    expect(thresholds[0]).toMatchObject({
      type: 'warning',
      at: miss + 0.75 * l2Ack,
      clock: { id: 'L2@4:acknowledge', tier: 'L2' },
    });
    expect(new Set(thresholds.map((t) => t.clock.id))).toEqual(new Set(['L2@4:acknowledge', 'L2@4:resolve']));
    expect(tl.explain(miss).nextEscalation).toMatchObject({
      at: miss + l2Ack,
      toTier: 'L3',
      action: 'escalate',
      clock: 'L2@4:acknowledge',
    });
  });
});

describe('a P3 incident on the business calendar (Europe/Paris, Mon–Fri 09:00–18:00)', () => {
  // 2025-03-14 is a Friday, 2025-03-17 a Monday; no French public holiday, no DST change (CET, UTC+1).
  const friday1730 = Date.parse('2025-03-14T17:30:00+01:00');
  const saturdayNoon = Date.parse('2025-03-15T12:00:00+01:00');
  const monday0915 = Date.parse('2025-03-17T09:15:00+01:00');
  const monday0930 = Date.parse('2025-03-17T09:30:00+01:00');

  it('created Friday 17:30, its 1-business-hour acknowledge target ends Monday 09:30 (30 min Friday + 30 min from Monday 09:00)', () => {
    const tl = Timeline.of(SEED, 'P3', friday1730);
    expect(tl.incident.priority).toBe('P3');
    const ack = clockOf(tl, friday1730, 'acknowledge');
    expect(ack).toMatchObject({ target: 'PT1H', deadline: monday0930 });
    // 75% = 45 business minutes: 30 on Friday, 15 on Monday.
    expect(tl.wakeUp(friday1730)).toBe(monday0915);
  });

  it('decideDue on Saturday appends nothing; on Monday at the deadline it warns, misses and escalates', () => {
    const tl = Timeline.of(SEED, 'P3', friday1730);
    expect(tl.due(saturdayNoon)).toEqual([]);
    expect(clockOf(tl, saturdayNoon, 'acknowledge')).toMatchObject({
      elapsedMs: 30 * MINUTE,
      remainingMs: 30 * MINUTE,
      breached: false,
    });
    expect(tl.wakeUp(saturdayNoon)).toBe(monday0915);
    const events = tl.due(monday0930);
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
    expect(events[1]!.data).toMatchObject({ clock: 'L1@1:acknowledge', dueAt: monday0930 });
  });

  it('created Friday 17:00, the 1-hour target fits before closing and ends at the closing instant, Friday 18:00 (calendar.ts: a deadline may be exactly 18:00)', () => {
    const friday1700 = Date.parse('2025-03-14T17:00:00+01:00');
    const tl = Timeline.of(SEED, 'P3', friday1700);
    expect(clockOf(tl, friday1700, 'acknowledge').deadline).toBe(Date.parse('2025-03-14T18:00:00+01:00'));
  });
});

describe('the clocks follow the incident: acknowledge, pending, resolve, reopen', () => {
  it('acknowledging stops the acknowledge clock for good while the resolve clock keeps running and escalates on its own miss', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    tl.run({ type: 'acknowledge' }, T + 5 * MINUTE);
    expect(tl.thresholds(T + 5 * MINUTE).map((t) => t.clock.id)).not.toContain('L1@1:acknowledge');
    expect(clockOf(tl, T + 10 * HOUR, 'acknowledge')).toMatchObject({
      stopped: true,
      elapsedMs: 5 * MINUTE,
      deadline: null,
      breached: false,
    });
    const events = tl.due(T + HOUR); // L1 P1 resolve target: 1 hour
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
    expect(events.every((e) => (e.data as { clock?: string }).clock !== 'L1@1:acknowledge')).toBe(true);
    expect(events[2]!.data).toMatchObject({ missed: { clock: 'L1@1:resolve' } });
    expect(tl.about('L1@1:acknowledge')).toEqual([]);
  });

  it('pending pauses the resolve clock: its deadline moves later by exactly the paused business time', () => {
    const cal = defaultBusinessCalendar();
    const monday0900 = Date.parse('2025-03-17T09:00:00+01:00');
    const monday1200 = Date.parse('2025-03-17T12:00:00+01:00');
    const tuesday1000 = Date.parse('2025-03-18T10:00:00+01:00');
    const tl = Timeline.of(SEED, 'P3', monday0900); // L1 P3 resolve: 8 business hours
    tl.run({ type: 'acknowledge' }, monday0900 + 10 * MINUTE);
    const before = clockOf(tl, monday1200, 'resolve').deadline!;
    expect(before).toBe(Date.parse('2025-03-17T17:00:00+01:00'));

    tl.run({ type: 'pend', reason: 'vendor', note: 'Waiting for the ISP' }, monday1200);
    const whilePaused = clockOf(tl, tuesday1000 - MINUTE, 'resolve');
    expect(whilePaused).toMatchObject({ paused: true, deadline: null, elapsedMs: 3 * HOUR });
    expect(tl.thresholds(tuesday1000 - MINUTE)).toEqual([]);
    expect(tl.due(tuesday1000 - MINUTE)).toEqual([]);

    tl.run({ type: 'resume' }, tuesday1000);
    const after = clockOf(tl, tuesday1000, 'resolve').deadline!;
    const paused = businessTimeBetween(cal, monday1200, tuesday1000);
    expect(paused).toBe(7 * HOUR); // 12:00–18:00 Monday, 09:00–10:00 Tuesday
    expect(after).toBe(addBusinessTime(cal, before, paused));
    expect(after).toBe(Date.parse('2025-03-18T15:00:00+01:00'));
  });

  it('resolving stops the thresholds: nothing is pending and decideDue appends nothing while resolved', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    tl.run({ type: 'resolve', resolution: 'Rebooted the switch' }, T + 20 * MINUTE);
    expect(tl.thresholds(T + 20 * MINUTE)).toEqual([]);
    expect(tl.wakeUp(T + 20 * MINUTE)).toBeNull();
    expect(tl.due(T + 30 * HOUR)).toEqual([]);
    expect(tl.explain(T + 30 * HOUR).nextEscalation).toBeNull();
  });

  it('reopening resumes the resolve clock where it stopped: elapsed time is kept, not reset', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    tl.run({ type: 'acknowledge' }, T + 5 * MINUTE);
    tl.run({ type: 'resolve', resolution: 'Rebooted the switch' }, T + 20 * MINUTE);
    const reopenAt = T + 3 * HOUR;
    tl.run({ type: 'reopen', reason: 'Down again' }, reopenAt);
    expect(clockOf(tl, reopenAt, 'resolve')).toMatchObject({
      elapsedMs: 20 * MINUTE,
      remainingMs: 40 * MINUTE,
      paused: false,
      deadline: reopenAt + 40 * MINUTE,
    });
    expect(tl.wakeUp(reopenAt)).toBe(reopenAt + 25 * MINUTE); // warning at 45 of 60 minutes
    expect(kinds(tl.due(reopenAt + 40 * MINUTE))).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
  });

  it('closing ends every clock: nothing is pending any more', () => {
    const tl = Timeline.of(SEED, 'P1', T, 'data-security-breach');
    tl.run({ type: 'resolve', resolution: 'Contained' }, T + MINUTE);
    tl.run({ type: 'close' }, T + 2 * MINUTE);
    expect(tl.thresholds(T + 2 * MINUTE)).toEqual([]);
    expect(tl.due(T + 100 * HOUR)).toEqual([]);
  });
});

describe('escalation rules of the matrix policy', () => {
  const withRules = (rules: NonNullable<NonNullable<MatrixDefinition['escalation']>['rules']>) =>
    matrixOf((m) => {
      m.escalation = { rules };
    });

  it("{tier: 'L1', acknowledge: 'notify'}: a miss records deadline_missed and notifies managers (repeat 0), and does not escalate", () => {
    const tl = Timeline.of(withRules([{ tier: 'L1', acknowledge: 'notify' }]), 'P1', T);
    const events = tl.due(T + ACK_L1_P1);
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'manager_notified']);
    expect(events[1]!.data).toMatchObject({ clock: 'L1@1:acknowledge', action: 'notify' });
    expect(events[2]).toMatchObject({ fromTier: 'L1', toTier: 'L1', data: { clock: 'L1@1:acknowledge', repeat: 0 } });
    expect((events[2]!.data as { reason: string }).reason).toMatch(/L1 acknowledge target PT15M missed/);
    expect(tl.incident).toMatchObject({ tier: 'L1', status: 'new', escalationCount: 0 });
    expect(tl.ofKind('escalated')).toEqual([]);
  });

  it('the rule is per target kind: a notify rule for acknowledge leaves the resolve miss escalating', () => {
    const tl = Timeline.of(withRules([{ tier: 'L1', acknowledge: 'notify' }]), 'P1', T);
    tl.run({ type: 'acknowledge' }, T + MINUTE);
    expect(kinds(tl.due(T + HOUR))).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
  });

  it("'both' notifies managers and escalates", () => {
    const tl = Timeline.of(withRules([{ tier: 'L1', acknowledge: 'both' }]), 'P1', T);
    const events = tl.due(T + ACK_L1_P1);
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'manager_notified', 'escalated']);
    expect(events[1]!.data).toMatchObject({ action: 'both' });
    expect(events[3]).toMatchObject({
      fromTier: 'L1',
      toTier: 'L2',
      data: { automatic: true, missed: { clock: 'L1@1:acknowledge' } },
    });
    expect(tl.incident.tier).toBe('L2');
  });

  it('a priority-specific rule beats a tier-wide rule, whatever their order', () => {
    const matrix = withRules([
      { tier: 'L1', acknowledge: 'notify' },
      { tier: 'L1', priority: 'P1', acknowledge: 'escalate' },
    ]);
    const p1 = Timeline.of(matrix, 'P1', T);
    expect(kinds(p1.due(T + ACK_L1_P1))).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
    const p2 = Timeline.of(matrix, 'P2', T); // P2 uses the tier-wide rule
    const ackP2 = p2.thresholds(T).find((t) => t.type === 'missed' && t.clock.kind === 'acknowledge');
    expect(ackP2).toMatchObject({ action: 'notify' });
  });

  it('without any rule a miss escalates', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    expect(missedAction(SEED, replayClocks(tl.events, SEED).stints[0]!.acknowledge, 'P1')).toBe('escalate');
  });
});

describe('the top tier (LX)', () => {
  const ENTER = T + MINUTE;
  const ACK_LX_P1 = HOUR;
  const ACK = 'LX@2:acknowledge';
  /** A P1 incident escalated by hand straight to LX one minute after creation. */
  const atLX = (matrix: VersionedMatrix = SEED) => {
    const tl = Timeline.of(matrix, 'P1', T);
    tl.run({ type: 'escalate', tier: 'LX', reason: 'Vendor firmware bug' }, ENTER);
    expect(tl.incident.tier).toBe('LX');
    return tl;
  };
  const reminders = (tl: Timeline, clock: string) =>
    tl.about(clock, 'manager_notified').map((e) => [(e.data as { repeat: number }).repeat, e.at]);

  it("a miss notifies managers, with action 'notify' even if the rule says escalate", () => {
    const matrix = matrixOf((m) => {
      m.escalation = { rules: [{ tier: 'LX', acknowledge: 'escalate' }] };
    });
    const tl = atLX(matrix);
    expect(tl.explain(ENTER).nextEscalation).toMatchObject({ at: ENTER + ACK_LX_P1, toTier: null, action: 'notify', clock: ACK });
    const events = tl.due(ENTER + ACK_LX_P1);
    expect(kinds(events)).toEqual(['deadline_warning', 'deadline_missed', 'manager_notified']);
    expect(events[1]!.data).toMatchObject({ clock: ACK, action: 'notify' });
    expect(events[2]!.data).toMatchObject({ clock: ACK, repeat: 0 });
    expect(tl.incident.tier).toBe('LX');
  });

  it('then reminds every hour by default, three times at most, after which nothing more is pending for that clock', () => {
    const tl = atLX();
    const miss = ENTER + ACK_LX_P1;
    tl.due(miss);
    expect(tl.thresholds(miss).filter((t) => t.clock.id === ACK)).toEqual([
      expect.objectContaining({ type: 'repeat', at: miss + HOUR, repeat: 1 }),
    ]);
    expect(tl.due(miss + HOUR - 1)).toEqual([]);
    for (const n of [1, 2, 3]) {
      const events = tl.due(miss + n * HOUR);
      expect(events).toEqual([
        expect.objectContaining({ kind: 'manager_notified', data: expect.objectContaining({ clock: ACK, repeat: n }) }),
      ]);
    }
    expect(reminders(tl, ACK)).toEqual([
      [0, miss],
      [1, miss + HOUR],
      [2, miss + 2 * HOUR],
      [3, miss + 3 * HOUR],
    ]);
    expect(tl.thresholds(miss + 3 * HOUR).filter((t) => t.clock.id === ACK)).toEqual([]);
    // Only the LX resolve target (8 hours, warning at 6) is left.
    expect(tl.wakeUp(miss + 3 * HOUR)).toBe(ENTER + 6 * HOUR);
    expect(tl.due(ENTER + 6 * HOUR - 1)).toEqual([]);
  });

  it('repeatEvery and maxRepeats of the policy set the interval and the bound', () => {
    const tl = atLX(matrixOf((m) => void (m.escalation = { repeatEvery: 'PT30M', maxRepeats: 1 })));
    const miss = ENTER + ACK_LX_P1;
    tl.due(miss);
    expect(tl.due(miss + 30 * MINUTE)).toHaveLength(1);
    expect(tl.due(miss + 5 * HOUR - 1).filter((e) => e.kind === 'manager_notified')).toEqual([]);
    expect(reminders(tl, ACK)).toEqual([
      [0, miss],
      [1, miss + 30 * MINUTE],
    ]);
  });

  it('maxRepeats 0 means the miss notification only', () => {
    const tl = atLX(matrixOf((m) => void (m.escalation = { maxRepeats: 0 })));
    tl.due(ENTER + ACK_LX_P1);
    expect(tl.thresholds(ENTER + ACK_LX_P1).filter((t) => t.clock.id === ACK)).toEqual([]);
    tl.due(ENTER + 5 * HOUR);
    expect(reminders(tl, ACK)).toEqual([[0, ENTER + ACK_LX_P1]]);
  });

  it('reminders stop as soon as the incident is acknowledged', () => {
    const tl = atLX();
    const miss = ENTER + ACK_LX_P1;
    tl.due(miss);
    tl.due(miss + HOUR);
    tl.run({ type: 'acknowledge' }, miss + HOUR + 30 * MINUTE);
    expect(tl.thresholds(miss + HOUR + 30 * MINUTE).filter((t) => t.clock.id === ACK)).toEqual([]);
    tl.due(ENTER + 5 * HOUR);
    expect(reminders(tl, ACK).map(([repeat]) => repeat)).toEqual([0, 1]);
  });

  it('reminders stop as soon as the incident is resolved', () => {
    const tl = atLX();
    const RES = 'LX@2:resolve';
    tl.run({ type: 'acknowledge' }, ENTER + 5 * MINUTE);
    const miss = ENTER + 8 * HOUR; // LX P1 resolve target
    expect(kinds(tl.due(miss))).toEqual(['deadline_warning', 'deadline_missed', 'manager_notified']);
    expect(kinds(tl.due(miss + HOUR))).toEqual(['manager_notified']);
    tl.run({ type: 'resolve', resolution: 'Vendor patch applied' }, miss + HOUR + MINUTE);
    expect(tl.thresholds(miss + HOUR + MINUTE)).toEqual([]);
    expect(tl.due(miss + 10 * HOUR)).toEqual([]);
    expect(reminders(tl, RES).map(([repeat]) => repeat)).toEqual([0, 1]);
  });

  it('a hand escalation above the top tier is refused', () => {
    const tl = atLX();
    expect(domainErrorOf(() => decide(tl.incident, { type: 'escalate', reason: 'more' }, 42, SEED))).toMatchObject({
      kind: 'conflict',
      code: 'top_tier',
    });
  });
});

describe('category clocks (data-security-breach: GDPR art. 33, 72 hours on 24x7)', () => {
  const GDPR = 'category:gdpr-art33';
  /** A P3 breach (business calendar for tiers), acknowledged and put on hold at once. */
  const pendingBreach = () => {
    const tl = Timeline.of(SEED, 'P3', T, 'data-security-breach');
    tl.run({ type: 'acknowledge' }, T + MINUTE);
    tl.run({ type: 'pend', reason: 'vendor', note: 'Waiting for the forensic firm' }, T + 2 * MINUTE);
    return tl;
  };

  it('runs from creation on 24x7 even while the incident is pending: warning at 54h, miss at 72h', () => {
    const tl = pendingBreach();
    expect(tl.thresholds(T + 3 * MINUTE)).toEqual([
      expect.objectContaining({
        type: 'warning',
        at: T + 54 * HOUR,
        clock: expect.objectContaining({ id: GDPR, kind: 'category', tier: null }),
      }),
      expect.objectContaining({ type: 'missed', at: T + 72 * HOUR, action: 'notify' }),
    ]);
    expect(clockOf(tl, T + 30 * HOUR, 'category')).toMatchObject({
      id: GDPR,
      elapsedMs: 30 * HOUR,
      paused: false,
      deadline: T + 72 * HOUR,
    });
    expect(clockOf(tl, T + 30 * HOUR, 'resolve')).toMatchObject({ paused: true });
  });

  it('the warning and the miss notify managers and never escalate', () => {
    const tl = pendingBreach();
    const warning = tl.due(T + 54 * HOUR);
    expect(warning).toEqual([
      expect.objectContaining({
        kind: 'deadline_warning',
        data: expect.objectContaining({ clock: GDPR, kind: 'category', tier: null, target: 'PT72H', fraction: 0.75 }),
      }),
    ]);
    expect(tl.due(T + 72 * HOUR - 1)).toEqual([]);
    const missed = tl.due(T + 72 * HOUR);
    expect(kinds(missed)).toEqual(['deadline_missed', 'manager_notified']);
    expect(missed[0]!.data).toMatchObject({ clock: GDPR, action: 'notify', dueAt: T + 72 * HOUR });
    expect(missed[1]!.data).toMatchObject({ clock: GDPR, repeat: 0 });
    expect((missed[1]!.data as { reason: string }).reason).toMatch(/gdpr-art33 target PT72H missed/);
    expect(tl.ofKind('escalated')).toEqual([]);
    expect(tl.incident).toMatchObject({ tier: 'L1', status: 'pending' });
    expect(kinds(tl.due(T + 73 * HOUR))).toEqual(['manager_notified']);
  });

  it('a clock_stopped event (stop_clock gdpr-art33) stops it: nothing falls due for it any more', () => {
    const tl = pendingBreach();
    const stopped = tl.run({ type: 'stop_clock', key: 'gdpr-art33', note: 'CNIL notified' }, T + 10 * HOUR);
    expect(stopped).toEqual([expect.objectContaining({ kind: 'clock_stopped', data: { clock: GDPR, note: 'CNIL notified' } })]);
    expect(tl.thresholds(T + 10 * HOUR)).toEqual([]);
    expect(tl.due(T + 200 * HOUR)).toEqual([]);
    expect(clockOf(tl, T + 200 * HOUR, 'category')).toMatchObject({
      stopped: true,
      elapsedMs: 10 * HOUR,
      deadline: null,
      breached: false,
    });
  });

  it('stopping the clock after its miss ends the reminders', () => {
    const tl = pendingBreach();
    tl.due(T + 72 * HOUR);
    tl.run({ type: 'stop_clock', key: 'gdpr-art33', note: 'CNIL notified late' }, T + 72 * HOUR + MINUTE);
    tl.due(T + 80 * HOUR);
    expect(tl.about(GDPR, 'manager_notified')).toHaveLength(1);
  });

  it('refuses to stop a clock the category does not have', () => {
    const tl = pendingBreach();
    expect(domainErrorOf(() => decide(tl.incident, { type: 'stop_clock', key: 'nis2', note: '' }, 42, SEED))).toMatchObject({
      code: 'unknown_clock',
    });
  });
});

describe('category-specific SLA targets', () => {
  const matrix = matrixOf((m) => {
    m.sla.push({ tier: 'L1', priority: 'P1', category: 'data-security-breach', acknowledge: 'PT5M', resolve: 'PT30M' });
  });

  it('an sla entry with a category beats the general one for that category only', () => {
    const breach = Timeline.of(matrix, 'P1', T, 'data-security-breach');
    expect(clockOf(breach, T, 'acknowledge')).toMatchObject({ target: 'PT5M', deadline: T + 5 * MINUTE });
    expect(clockOf(breach, T, 'resolve')).toMatchObject({ target: 'PT30M', deadline: T + 30 * MINUTE });
    expect(kinds(breach.due(T + 5 * MINUTE))).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);

    const network = Timeline.of(matrix, 'P1', T, 'network-downtime');
    expect(clockOf(network, T, 'acknowledge')).toMatchObject({ target: 'PT15M', deadline: T + 15 * MINUTE });
    expect(network.due(T + 5 * MINUTE)).toEqual([]);
  });
});

describe('matrix versions', () => {
  const v1 = SEED;
  const v2 = matrixOf((m) => {
    const target = m.sla.find((s) => s.tier === 'L1' && s.priority === 'P1')!;
    Object.assign(target, { acknowledge: 'PT1H', resolve: 'PT4H' });
  }, 2);
  const versions = new Map([v1, v2].map((m) => [m.version, m]));

  it('a running incident keeps the deadlines of the matrix it was created under; a later version would give others', () => {
    const tl = Timeline.of(v1, 'P1', T);
    const own = versions.get(tl.incident.matrixVersion)!;
    expect(own).toBe(v1);
    expect(clockOf(tl, T, 'acknowledge').deadline).toBe(T + 15 * MINUTE);
    expect(tl.explain(T, v2).clocks.find((c) => c.kind === 'acknowledge')!.deadline).toBe(T + HOUR);
    expect(tl.wakeUp(T, own)).toBe(T + 0.75 * 15 * MINUTE);
    expect(tl.wakeUp(T, v2)).toBe(T + 0.75 * HOUR);

    expect(decideDue(tl.incident, tl.events, v2, T + 15 * MINUTE)).toEqual([]);
    expect(kinds(tl.due(T + 15 * MINUTE, own))).toEqual(['deadline_warning', 'deadline_missed', 'escalated']);
  });
});

describe('checklist gating (network-downtime at L1, action #0 mandatory)', () => {
  const matrix = matrixOf((m) => {
    cell(m, 'network-downtime', 'L1').mandatory = [0];
  });

  it("a hand escalation with the mandatory action neither checked nor skipped is refused: conflict 'checklist_incomplete'", () => {
    const tl = Timeline.of(matrix, 'P1', T);
    const error = domainErrorOf(() => tl.run({ type: 'escalate', reason: 'Beyond L1' }, T + MINUTE));
    expect(error).toMatchObject({ kind: 'conflict', code: 'checklist_incomplete' });
    expect(tl.events).toHaveLength(1);
  });

  it('a hand escalation skipping the action with a reason passes and records the skip', () => {
    const tl = Timeline.of(matrix, 'P1', T);
    const skip = [{ index: 0, reason: 'The whole site is down, nothing to check locally' }];
    const events = tl.run({ type: 'escalate', reason: 'Beyond L1', skip }, T + MINUTE);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'escalated',
        fromTier: 'L1',
        toTier: 'L2',
        data: { reason: 'Beyond L1', automatic: false, skipped: skip },
      }),
    ]);
  });

  it('a hand escalation with the action checked passes without a skip', () => {
    const tl = Timeline.of(matrix, 'P1', T);
    tl.run({ type: 'check', index: 0 }, T + MINUTE);
    const events = tl.run({ type: 'escalate', reason: 'Beyond L1' }, T + 2 * MINUTE);
    expect(events[0]!.data).toEqual({ reason: 'Beyond L1', automatic: false });
  });

  it('the automatic escalation goes through regardless and records the actions left undone', () => {
    const tl = Timeline.of(matrix, 'P1', T);
    const events = tl.due(T + ACK_L1_P1);
    expect(events.at(-1)).toMatchObject({ kind: 'escalated', toTier: 'L2', data: { automatic: true, leftActions: [0] } });
  });

  it('the automatic escalation of an incident whose mandatory actions are done records no leftActions', () => {
    const tl = Timeline.of(matrix, 'P1', T);
    tl.run({ type: 'check', index: 0 }, T + MINUTE);
    const escalated = tl.due(T + ACK_L1_P1).at(-1)!;
    expect(escalated.kind).toBe('escalated');
    expect(escalated.data).not.toHaveProperty('leftActions');
  });
});

describe('followUps', () => {
  it('with reopenLimit 1 on the cell, the first reopen is accepted and the second yields an automatic escalation', () => {
    const matrix = matrixOf((m) => {
      cell(m, 'network-downtime', 'L1').reopenLimit = 1;
    });
    const tl = Timeline.of(matrix, 'P1', T);
    tl.run({ type: 'acknowledge' }, T + MINUTE);
    tl.run({ type: 'resolve', resolution: 'Rebooted' }, T + 2 * MINUTE);
    expect(kinds(tl.run({ type: 'reopen', reason: 'Down again' }, T + 3 * MINUTE))).toEqual(['reopened']);
    tl.run({ type: 'resolve', resolution: 'Rebooted again' }, T + 4 * MINUTE);
    // followUps itself, on the state right after the second reopen:
    const reopened = numbered(
      tl.incident,
      decide(tl.incident, { type: 'reopen', reason: 'Still down' }, 42, matrix),
      T + 5 * MINUTE,
      42,
    );
    const afterReopen = reopened.reduce<Incident>((state, e) => apply(state, e), tl.incident);
    expect(followUps(afterReopen, [...tl.events, ...reopened], matrix)).toEqual([
      {
        kind: 'escalated',
        fromTier: 'L1',
        toTier: 'L2',
        data: { reason: 'reopened 2 time(s), more than the cell allows (1)', automatic: true },
      },
    ]);
    // and as the service applies it:
    const events = tl.run({ type: 'reopen', reason: 'Still down' }, T + 5 * MINUTE);
    expect(kinds(events)).toEqual(['reopened', 'escalated']);
    expect(events[1]).toMatchObject({ actorId: null, fromTier: 'L1', toTier: 'L2', data: { automatic: true } });
    expect(tl.incident).toMatchObject({ tier: 'L2', status: 'new', reopenCount: 2 });
  });

  it('without a reopenLimit reopening never escalates', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    for (let i = 0; i < 4; i++) {
      tl.run({ type: 'resolve', resolution: 'Rebooted' }, T + (2 * i + 1) * MINUTE);
      expect(kinds(tl.run({ type: 'reopen', reason: 'Down again' }, T + (2 * i + 2) * MINUTE))).toEqual(['reopened']);
    }
    expect(tl.incident.tier).toBe('L1');
  });

  it('hand-backs between the same two tiers reaching pingPongLimit (default 2) yield exactly one ping_pong_detected', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    let at = T;
    const roundTrip = () => {
      tl.run({ type: 'escalate', reason: 'Needs L2' }, (at += MINUTE));
      return kinds(tl.run({ type: 'hand_back', reason: 'Back to L1' }, (at += MINUTE)));
    };
    expect(roundTrip()).toEqual(['handed_back']);
    expect(roundTrip()).toEqual(['handed_back', 'ping_pong_detected']);
    expect(roundTrip()).toEqual(['handed_back']);
    expect(roundTrip()).toEqual(['handed_back']);
    const detected = tl.ofKind('ping_pong_detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({
      actorId: null,
      fromTier: 'L1',
      toTier: 'L1',
      data: { tiers: ['L1', 'L2'], handBacks: 2 },
    });
  });

  it('pingPongLimit of the policy sets the count, and hand-backs between other pairs do not count', () => {
    const tl = Timeline.of(
      matrixOf((m) => void (m.escalation = { pingPongLimit: 3 })),
      'P1',
      T,
    );
    let at = T;
    const run = (command: IncidentCommand) => kinds(tl.run(command, (at += MINUTE)));
    run({ type: 'escalate', reason: 'up' }); // L1 -> L2
    run({ type: 'escalate', reason: 'up' }); // L2 -> L3
    expect(run({ type: 'hand_back', reason: 'down' })).toEqual(['handed_back']); // L3 -> L2
    expect(run({ type: 'hand_back', reason: 'down' })).toEqual(['handed_back']); // L2 -> L1 (1)
    run({ type: 'escalate', reason: 'up' });
    expect(run({ type: 'hand_back', reason: 'down' })).toEqual(['handed_back']); // L2 -> L1 (2)
    run({ type: 'escalate', reason: 'up' });
    expect(run({ type: 'hand_back', reason: 'down' })).toEqual(['handed_back', 'ping_pong_detected']); // L2 -> L1 (3)
    expect(tl.ofKind('ping_pong_detected')[0]!.data).toEqual({ tiers: ['L1', 'L2'], handBacks: 3 });
  });
});

describe('explain', () => {
  it('lists the running clocks with elapsed, remaining, paused, deadline and breached, and the next escalation', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    const now = T + 10 * MINUTE;
    const x = tl.explain(now);
    expect(x.clocks).toEqual([
      {
        id: 'L1@1:acknowledge',
        kind: 'acknowledge',
        tier: 'L1',
        target: 'PT15M',
        elapsedMs: 10 * MINUTE,
        remainingMs: 5 * MINUTE,
        paused: false,
        stopped: false,
        deadline: T + 15 * MINUTE,
        breached: false,
      },
      {
        id: 'L1@1:resolve',
        kind: 'resolve',
        tier: 'L1',
        target: 'PT1H',
        elapsedMs: 10 * MINUTE,
        remainingMs: 50 * MINUTE,
        paused: false,
        stopped: false,
        deadline: T + HOUR,
        breached: false,
      },
    ]);
    expect(x.nextEscalation).toEqual({
      at: T + 15 * MINUTE,
      toTier: 'L2',
      action: 'escalate',
      clock: 'L1@1:acknowledge',
      reason: 'L1 acknowledge target PT15M',
    });
    expect(x.overall).toEqual({ elapsedMs: 10 * MINUTE });
    expect(x.tierTime).toEqual([{ tier: 'L1', enteredAt: T, leftAt: null, businessMs: 10 * MINUTE }]);
  });

  it('shows a paused clock without a deadline, a breached one, and the category clock', () => {
    const matrix = matrixOf((m) => void (m.escalation = { rules: [{ tier: 'L1', acknowledge: 'notify' }] }));
    const tl = Timeline.of(matrix, 'P1', T, 'data-security-breach');
    tl.due(T + 20 * MINUTE); // the acknowledge miss only notifies
    const breached = tl.explain(T + 20 * MINUTE);
    expect(breached.clocks.map((c) => c.id)).toEqual(['L1@1:acknowledge', 'L1@1:resolve', 'category:gdpr-art33']);
    expect(breached.clocks[0]).toMatchObject({ breached: true, remainingMs: -5 * MINUTE, deadline: T + 15 * MINUTE });
    expect(breached.nextEscalation).toMatchObject({ at: T + HOUR, toTier: 'L2', clock: 'L1@1:resolve' });

    tl.run({ type: 'acknowledge' }, T + 25 * MINUTE);
    tl.run({ type: 'pend', reason: 'requester', note: 'Waiting for logs' }, T + 30 * MINUTE);
    const paused = tl.explain(T + 2 * HOUR);
    expect(paused.clocks[0]).toMatchObject({ stopped: true, deadline: null, elapsedMs: 25 * MINUTE });
    expect(paused.clocks[1]).toMatchObject({ paused: true, deadline: null, elapsedMs: 30 * MINUTE, remainingMs: 30 * MINUTE });
    expect(paused.clocks[2]).toMatchObject({ paused: false, elapsedMs: 2 * HOUR, deadline: T + 72 * HOUR });
    expect(paused.nextEscalation).toBeNull();
    expect(paused.overall.elapsedMs).toBe(30 * MINUTE);
  });

  it('tierTime has one entry per stint, including a return to a tier', () => {
    const tl = Timeline.of(SEED, 'P1', T);
    tl.run({ type: 'escalate', reason: 'up' }, T + 10 * MINUTE);
    tl.run({ type: 'hand_back', reason: 'down' }, T + 30 * MINUTE);
    tl.run({ type: 'escalate', tier: 'L3', reason: 'straight to L3' }, T + 35 * MINUTE);
    expect(tl.explain(T + HOUR).tierTime).toEqual([
      { tier: 'L1', enteredAt: T, leftAt: T + 10 * MINUTE, businessMs: 10 * MINUTE },
      { tier: 'L2', enteredAt: T + 10 * MINUTE, leftAt: T + 30 * MINUTE, businessMs: 20 * MINUTE },
      { tier: 'L1', enteredAt: T + 30 * MINUTE, leftAt: T + 35 * MINUTE, businessMs: 5 * MINUTE },
      { tier: 'L3', enteredAt: T + 35 * MINUTE, leftAt: null, businessMs: 25 * MINUTE },
    ]);
  });
});

// -------------------------------------------------------------------------------------------------
// Properties

const CATEGORIES = [
  'software-installation-failure',
  'network-downtime',
  'data-security-breach',
  'cloud-service-interruption',
] as const;
const POLICIES: VersionedMatrix[] = [
  SEED,
  matrixOf((m) => {
    m.escalation = {
      rules: [
        { tier: 'L1', acknowledge: 'notify' },
        { tier: 'L2', resolve: 'both' },
        { tier: 'L3', priority: 'P1', acknowledge: 'both' },
        { tier: 'LX', resolve: 'escalate' },
      ],
      repeatEvery: 'PT30M',
      maxRepeats: 2,
      pingPongLimit: 1,
    };
    for (const c of m.cells) if (c.tier === 'L1') c.reopenLimit = 1;
    cell(m, 'network-downtime', 'L1').mandatory = [0];
    cell(m, 'software-installation-failure', 'L2').mandatory = [0, 1];
  }),
  matrixOf((m) => {
    m.escalation = { warnAt: 0.5, maxRepeats: 0 };
    m.sla.push({
      tier: 'L2',
      priority: 'P3',
      category: 'data-security-breach',
      acknowledge: 'PT10M',
      resolve: 'PT1H',
      calendar: '24x7',
    });
    for (const c of m.cells) if (c.tier === 'L2' || c.tier === 'L3') c.reopenLimit = 0;
  }),
];

type Step = { kind: 'command'; pick: number; gap: number } | { kind: 'wait'; gap: number };

const ESCALATE: IncidentCommand = { type: 'escalate', reason: 'by hand' };
const HAND_BACK: IncidentCommand = { type: 'hand_back', reason: 'back' };
const CHECK: IncidentCommand = { type: 'check', index: 0 };
const STOP_CLOCK: IncidentCommand = { type: 'stop_clock', key: 'gdpr-art33', note: 'done' };
const RESOLVE: IncidentCommand = { type: 'resolve', resolution: 'fixed' };
const JUMPS: IncidentCommand[] = ['L2', 'L3', 'LX'].map((tier) => ({ type: 'escalate', tier, reason: 'jump' }));
/** Commands worth trying in each status (the incident may still refuse some: checklist, top tier...). */
const CANDIDATES: Record<Incident['status'], IncidentCommand[]> = {
  new: [
    { type: 'acknowledge' },
    { type: 'acknowledge' },
    { type: 'start' },
    ESCALATE,
    ...JUMPS,
    HAND_BACK,
    RESOLVE,
    CHECK,
    STOP_CLOCK,
  ],
  acknowledged: [
    { type: 'start' },
    { type: 'pend', reason: 'vendor', note: 'parts' },
    ESCALATE,
    JUMPS[0]!,
    HAND_BACK,
    RESOLVE,
    CHECK,
    STOP_CLOCK,
  ],
  in_progress: [
    { type: 'pend', reason: 'requester', note: 'logs' },
    { type: 'pend', reason: 'vendor', note: 'parts' },
    ESCALATE,
    HAND_BACK,
    RESOLVE,
    CHECK,
  ],
  pending: [{ type: 'resume' }, { type: 'resume' }, ESCALATE, HAND_BACK, RESOLVE, STOP_CLOCK],
  resolved: [
    { type: 'reopen', reason: 'again' },
    { type: 'reopen', reason: 'again' },
    { type: 'reopen', reason: 'again' },
    STOP_CLOCK,
    { type: 'close' },
  ],
  closed: [{ type: 'comment', body: 'closed' }],
};
const minutes = (min: number, max: number) => fc.integer({ min, max }).map((m) => m * MINUTE);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('command' as const), pick: fc.nat(), gap: minutes(0, 60) }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant('wait' as const), gap: fc.oneof(minutes(1, 120), minutes(1, 48 * 60)) }),
    weight: 2,
  },
);
const scenarioArb = fc.record({
  policy: fc.integer({ min: 0, max: POLICIES.length - 1 }),
  priority: fc.constantFrom<Priority>(...PRIORITIES),
  category: fc.constantFrom(...CATEGORIES),
  start: fc
    .integer({ min: Date.parse('2025-01-01T00:00:00Z') / MINUTE, max: Date.parse('2026-12-31T00:00:00Z') / MINUTE })
    .map((m) => m * MINUTE),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 30 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/**
 * Plays a scenario: each command step picks one of the commands that make sense in the incident's
 * status, applied if the incident accepts it (refusals are skipped);
 * waits advance the time and run decideDue, then decideDue once more at the same instant.
 */
function play(s: Scenario) {
  const matrix = POLICIES[s.policy]!;
  const tl = Timeline.of(matrix, s.priority, s.start, s.category);
  let now = s.start;
  const explicitTier = new Set<number>();
  const secondCalls: IncidentEvent[][] = [];
  for (const step of s.steps) {
    now += step.gap;
    if (step.kind === 'command') {
      const options = CANDIDATES[tl.incident.status];
      const command = options[step.pick % options.length]!;
      const events = tl.tryRun(command, now);
      if (events && command.type === 'escalate' && command.tier !== undefined) explicitTier.add(events[0]!.seq);
    } else {
      tl.due(now);
      secondCalls.push(decideDue(tl.incident, tl.events, matrix, now));
    }
  }
  return { tl, matrix, now, explicitTier, secondCalls };
}

describe('properties', () => {
  const runs = { numRuns: 200 };

  fcTest.prop(
    [
      fc.constantFrom<Priority>(...PRIORITIES),
      scenarioArb.map((s) => s.start),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * 24 * 60 }), fc.integer({ min: 1, max: 3 * 24 * 60 })), {
        minLength: 1,
        maxLength: 5,
      }),
    ],
    runs,
  )(
    '(a) a deadline never moves earlier when the clock pauses: the resolve deadline after pend + resume is >= the one before',
    (priority, start, pauses) => {
      const tl = Timeline.of(SEED, priority, start);
      let now = start + MINUTE;
      tl.run({ type: 'acknowledge' }, now);
      const resolveDeadline = (at: number) => deadline(replayClocks(tl.events, SEED).stints.at(-1)!.resolve.clock, at);
      for (const [runFor, pauseFor] of pauses) {
        now += runFor * MINUTE;
        const before = resolveDeadline(now);
        expect(before).not.toBeNull();
        tl.run({ type: 'pend', reason: 'requester', note: 'waiting' }, now);
        expect(resolveDeadline(now)).toBeNull();
        now += pauseFor * MINUTE;
        tl.run({ type: 'resume' }, now);
        const after = resolveDeadline(now);
        expect(after).not.toBeNull();
        expect(after!).toBeGreaterThanOrEqual(before!);
      }
    },
  );

  fcTest.prop(
    [scenarioArb, fc.array(fc.integer({ min: -2 * 24 * 60, max: 40 * 24 * 60 }), { minLength: 2, maxLength: 8 })],
    runs,
  )('(b) elapsed business time is never negative and never decreases with time, on every clock of the incident', (s, offsets) => {
    const { tl, matrix } = play(s);
    const replay = replayClocks(tl.events, matrix);
    const clocks = [
      ...replay.stints.flatMap((st) => [st.acknowledge.clock, st.resolve.clock]),
      ...replay.categoryClocks.map((c) => c.clock),
      replay.overall,
    ];
    const instants = offsets.map((o) => s.start + o * MINUTE).sort((a, b) => a - b);
    for (const clock of clocks) {
      let previous = 0;
      for (const at of instants) {
        const e = elapsed(clock, at);
        expect(e).toBeGreaterThanOrEqual(previous);
        previous = e;
      }
    }
  });

  fcTest.prop([scenarioArb], runs)(
    '(c) escalation never skips a tier: every escalation goes from tier i to i+1, except hand escalations naming a tier',
    (s) => {
      const { tl, matrix, explicitTier } = play(s);
      for (const e of tl.ofKind('escalated')) {
        const from = tierIndex(matrix, e.fromTier!);
        const to = tierIndex(matrix, e.toTier!);
        if (explicitTier.has(e.seq)) expect(to).toBeGreaterThan(from);
        else expect({ seq: e.seq, from, to }).toEqual({ seq: e.seq, from, to: from + 1 });
      }
    },
  );

  fcTest.prop([scenarioArb], runs)('(d) decideDue is idempotent: a second call at the same instant appends nothing', (s) => {
    const { secondCalls } = play(s);
    for (const events of secondCalls) expect(events).toEqual([]);
  });

  fcTest.prop([scenarioArb], runs)(
    '(e) no threshold is ever recorded twice: one deadline_missed (and one deadline_warning) per clock id',
    (s) => {
      const { tl } = play(s);
      const ids = (kind: IncidentEvent['kind']) => tl.ofKind(kind).map((e) => (e.data as { clock: string }).clock);
      const missed = ids('deadline_missed');
      const warned = ids('deadline_warning');
      expect(missed).toEqual([...new Set(missed)]);
      expect(warned).toEqual([...new Set(warned)]);
      const reminders = tl
        .ofKind('manager_notified')
        .map((e) => `${(e.data as { clock: string }).clock}#${(e.data as { repeat: number }).repeat}`);
      expect(reminders).toEqual([...new Set(reminders)]);
    },
  );
});
