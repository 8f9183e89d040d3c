import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { DateTime } from 'luxon';
import { nextHandover, onCallAt, rotationOnCall, type Override, type Rotation } from '../../src/domain/oncall.js';

const H = 3_600_000;
const DAY = 24 * H;
const ZONE = 'Europe/Paris';

/** Local wall time in a zone -> epoch ms, via luxon directly (independent of the rotation code). */
const local = (iso: string, zone = ZONE) => {
  const dt = DateTime.fromISO(iso, { zone });
  if (!dt.isValid) throw new Error(`bad test date ${iso}`);
  return dt.toMillis();
};

const ZONES = ['Europe/Paris', 'UTC', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kolkata'];

const rotationArb = fc.record({
  startsAt: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
  period: fc.constantFrom('daily' as const, 'weekly' as const),
  handoverTime: fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
  timeZone: fc.constantFrom(...ZONES),
  members: fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 6 }),
});

const overrideArb = (r: Rotation) =>
  fc
    .record({
      userId: fc.integer({ min: 2000, max: 2010 }),
      startsAt: fc.integer({ min: r.startsAt - 10 * DAY, max: r.startsAt + 60 * DAY }),
      length: fc.integer({ min: 1, max: 20 * DAY }),
    })
    .map(({ userId, startsAt, length }): Override => ({ userId, startsAt, endsAt: startsAt + length }));

describe('on-call rotation', () => {
  fcTest.prop([rotationArb, fc.integer({ min: 0, max: 400 * DAY })])(
    'names exactly one member at any instant from the start, and the same one until the hand-over',
    (r, offset) => {
      const t = r.startsAt + offset;
      const now = rotationOnCall(r, t);
      expect(now).not.toBeNull();
      expect(r.members).toContain(now!.userId);
      expect(now!.until).toBeGreaterThan(t);
      expect(now!.until).toBe(nextHandover(r, t));
      expect(rotationOnCall(r, now!.until - 1)!.userId).toBe(now!.userId);
      // A shift lasts at most one period, give or take a DST hour.
      expect(now!.until - t).toBeLessThanOrEqual((r.period === 'daily' ? 1 : 7) * DAY + H);
    },
  );

  fcTest.prop([rotationArb, fc.integer({ min: 0, max: 20 })])(
    'hands over to each member in turn, then starts again',
    (r, from) => {
      // Walk shift ends from the start: shift k belongs to members[k mod n].
      let t = r.startsAt;
      for (let k = 0; k < from + 2 * r.members.length; k++) {
        const now = rotationOnCall(r, t)!;
        expect(now.userId).toBe(r.members[k % r.members.length]);
        t = now.until;
      }
    },
  );

  fcTest.prop([rotationArb])('hands over at the hand-over time, local time, on the right days', (r) => {
    let t = r.startsAt;
    let previous: DateTime | undefined;
    for (let k = 0; k < 10; k++) {
      t = nextHandover(r, t);
      const at = DateTime.fromMillis(t, { zone: r.timeZone });
      const wanted = DateTime.fromISO(`${at.toISODate()}T${r.handoverTime}`, { zone: r.timeZone });
      // The local time is the hand-over time, or later by the gap when a DST jump skips it.
      expect(t - wanted.toMillis()).toBeGreaterThanOrEqual(0);
      expect(t - wanted.toMillis()).toBeLessThanOrEqual(H);
      if (previous) {
        const days = at.startOf('day').diff(previous.startOf('day'), 'days').days;
        expect(Math.round(days)).toBe(r.period === 'daily' ? 1 : 7);
      }
      previous = at;
    }
    if (r.period === 'weekly') {
      // Weekly hand-overs fall on the weekday of the start.
      expect(previous!.weekday).toBe(DateTime.fromMillis(r.startsAt, { zone: r.timeZone }).weekday);
    }
  });

  it('names nobody before the start, or without members', () => {
    const r: Rotation = {
      startsAt: local('2026-03-02T09:00'),
      period: 'weekly',
      handoverTime: '09:00',
      timeZone: ZONE,
      members: [1, 2],
    };
    expect(rotationOnCall(r, r.startsAt - 1)).toBeNull();
    expect(onCallAt(r, [], r.startsAt - 1)).toBeNull();
    expect(onCallAt({ ...r, members: [] }, [], r.startsAt + DAY)).toBeNull();
    expect(nextHandover(r, r.startsAt - DAY)).toBe(r.startsAt);
    expect(nextHandover(r, r.startsAt)).toBe(local('2026-03-09T09:00'));
  });

  it('gives the first member the time from the start to the first hand-over', () => {
    const r: Rotation = {
      startsAt: local('2026-03-04T15:20'),
      period: 'daily',
      handoverTime: '08:30',
      timeZone: ZONE,
      members: [7, 8, 9],
    };
    expect(rotationOnCall(r, local('2026-03-05T08:29'))).toEqual({ userId: 7, until: local('2026-03-05T08:30') });
    expect(rotationOnCall(r, local('2026-03-05T08:30'))).toEqual({ userId: 8, until: local('2026-03-06T08:30') });
    expect(rotationOnCall(r, local('2026-03-07T12:00'))!.userId).toBe(7);
  });
});

describe('on-call rotation across DST in Europe/Paris', () => {
  const daily = (handoverTime: string, members = [1, 2, 3]): Rotation => ({
    startsAt: local(`2026-03-27T${handoverTime}`),
    period: 'daily',
    handoverTime,
    timeZone: ZONE,
    members,
  });

  it('keeps the hand-over at 09:00 local on the 23-hour and 25-hour days', () => {
    const spring = daily('09:00');
    // 2026-03-29: clocks go from 02:00 to 03:00, the shift of the 28th lasts 23 hours.
    expect(rotationOnCall(spring, local('2026-03-28T12:00'))).toEqual({ userId: 2, until: local('2026-03-29T09:00') });
    expect(local('2026-03-29T09:00') - local('2026-03-28T09:00')).toBe(23 * H);
    expect(rotationOnCall(spring, local('2026-03-29T08:59'))!.userId).toBe(2);
    expect(rotationOnCall(spring, local('2026-03-29T09:00'))!.userId).toBe(3);

    const autumn: Rotation = { ...spring, startsAt: local('2026-10-24T09:00') };
    // 2026-10-25: clocks go from 03:00 back to 02:00, the shift of the 24th lasts 25 hours.
    expect(rotationOnCall(autumn, local('2026-10-25T02:30'))).toEqual({ userId: 1, until: local('2026-10-25T09:00') });
    expect(local('2026-10-25T09:00') - local('2026-10-24T09:00')).toBe(25 * H);
    expect(rotationOnCall(autumn, local('2026-10-25T09:00'))!.userId).toBe(2);
  });

  it('hands over at 03:30 when 02:30 does not exist, and once when 02:30 happens twice', () => {
    const spring = daily('02:30');
    // 02:30 on 29 March does not exist: the hand-over happens at 03:30 CEST (01:30 UTC).
    expect(nextHandover(spring, local('2026-03-28T12:00'))).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(nextHandover(spring, Date.UTC(2026, 2, 29, 1, 30))).toBe(local('2026-03-30T02:30'));

    const autumn: Rotation = { ...spring, startsAt: local('2026-10-24T02:30') };
    // 02:30 happens twice on 25 October: one hand-over, at the first (00:30 UTC).
    const first = Date.UTC(2026, 9, 25, 0, 30);
    expect(nextHandover(autumn, local('2026-10-24T12:00'))).toBe(first);
    expect(rotationOnCall(autumn, first + H)!.userId).toBe(rotationOnCall(autumn, first)!.userId);
    expect(nextHandover(autumn, first)).toBe(local('2026-10-26T02:30'));
  });

  it('keeps weekly shifts on Monday 09:00 across the change of time', () => {
    const weekly: Rotation = {
      startsAt: local('2026-03-23T09:00'),
      period: 'weekly',
      handoverTime: '09:00',
      timeZone: ZONE,
      members: [1, 2],
    };
    expect(rotationOnCall(weekly, local('2026-03-29T12:00'))).toEqual({ userId: 1, until: local('2026-03-30T09:00') });
    expect(local('2026-03-30T09:00') - local('2026-03-23T09:00')).toBe(7 * DAY - H);
    expect(rotationOnCall(weekly, local('2026-03-30T09:00'))!.userId).toBe(2);
  });
});

describe('on-call overrides', () => {
  fcTest.prop([
    rotationArb.chain((r) =>
      fc.tuple(fc.constant(r), fc.array(overrideArb(r), { maxLength: 4 }), fc.integer({ min: -10 * DAY, max: 90 * DAY })),
    ),
  ])('an override wins inside its window only', ([r, overrides, offset]) => {
    const t = r.startsAt + offset;
    const now = onCallAt(r, overrides, t);
    const inForce = overrides.filter((o) => o.startsAt <= t && t < o.endsAt);
    if (inForce.length > 0) {
      const latest = Math.max(...inForce.map((o) => o.startsAt));
      expect(now!.source).toBe('override');
      expect(inForce.filter((o) => o.startsAt === latest).map((o) => o.userId)).toContain(now!.userId);
    } else {
      const rotation = rotationOnCall(r, t);
      expect(now === null ? null : { userId: now.userId, source: now.source }).toEqual(
        rotation === null ? null : { userId: rotation.userId, source: 'rotation' },
      );
    }
  });

  fcTest.prop([
    rotationArb.chain((r) =>
      fc.tuple(fc.constant(r), fc.array(overrideArb(r), { maxLength: 4 }), fc.integer({ min: 0, max: 90 * DAY })),
    ),
  ])('exactly one person from the start, the same until `until`, someone else from then', ([r, overrides, offset]) => {
    const t = r.startsAt + offset;
    const now = onCallAt(r, overrides, t)!;
    expect(now).not.toBeNull();
    if (now.until !== null) {
      expect(now.until).toBeGreaterThan(t);
      expect(onCallAt(r, overrides, now.until - 1)!.userId).toBe(now.userId);
      expect(onCallAt(r, overrides, now.until)?.userId).not.toBe(now.userId);
    } else {
      expect(new Set(r.members).size).toBe(1);
    }
  });

  it('gives the shift back to the rotation when the override ends', () => {
    const r: Rotation = {
      startsAt: local('2026-05-04T09:00'),
      period: 'weekly',
      handoverTime: '09:00',
      timeZone: ZONE,
      members: [1, 2],
    };
    const cover: Override = { userId: 5, startsAt: local('2026-05-06T18:00'), endsAt: local('2026-05-07T08:00') };
    expect(onCallAt(r, [cover], local('2026-05-06T17:59'))).toEqual({ userId: 1, source: 'rotation', until: cover.startsAt });
    expect(onCallAt(r, [cover], local('2026-05-06T18:00'))).toEqual({ userId: 5, source: 'override', until: cover.endsAt });
    expect(onCallAt(r, [cover], cover.endsAt)).toEqual({ userId: 1, source: 'rotation', until: local('2026-05-11T09:00') });
    // An override of the person already on call changes nothing visible: `until` skips it.
    const same: Override = { userId: 1, startsAt: local('2026-05-05T00:00'), endsAt: local('2026-05-05T12:00') };
    expect(onCallAt(r, [same], local('2026-05-04T10:00'))!.until).toBe(local('2026-05-11T09:00'));
  });

  it('lets a short override inside a long one take over, then hands back to the long one', () => {
    const r: Rotation = {
      startsAt: local('2026-05-04T09:00'),
      period: 'daily',
      handoverTime: '09:00',
      timeZone: ZONE,
      members: [1],
    };
    const long: Override = { userId: 5, startsAt: local('2026-05-05T00:00'), endsAt: local('2026-05-10T00:00') };
    const short: Override = { userId: 6, startsAt: local('2026-05-06T00:00'), endsAt: local('2026-05-07T00:00') };
    expect(onCallAt(r, [short, long], local('2026-05-06T12:00'))).toEqual({ userId: 6, source: 'override', until: short.endsAt });
    expect(onCallAt(r, [short, long], short.endsAt)).toEqual({ userId: 5, source: 'override', until: long.endsAt });
    expect(onCallAt(r, [short, long], long.endsAt)).toEqual({ userId: 1, source: 'rotation', until: null });
  });
});
