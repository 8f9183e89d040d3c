import { describe, expect, it } from 'vitest';
import { incidentFigures } from '../../src/domain/incident-figures.js';
import { HOUR, matrixOf, MINUTE, Timeline } from '../helpers/incident-builders.js';

const T = Date.parse('2026-03-17T08:00:00Z');
const vendor = { id: 9, name: 'Netcore', acknowledge: 'PT30M', resolve: 'PT2H' };

/** A P1 incident acknowledged at L1 after 5 min, handed to the vendor at 10 min. */
function handedOver(ref: { id: number; name: string; acknowledge?: string; resolve?: string } = vendor) {
  const tl = Timeline.of(matrixOf(), 'P1', T);
  tl.run({ type: 'acknowledge' }, T + 5 * MINUTE);
  tl.run({ type: 'engage_vendor', vendor: ref, note: 'contract' }, T + 10 * MINUTE);
  return tl;
}
const figures = (tl: Timeline, now: number) => incidentFigures(tl.incident, tl.events, tl.matrix, now).vendors;

describe('vendor hand-over figures', () => {
  it('judges the vendor by the clock of its contract: a running target is not judged until it passes', () => {
    const tl = handedOver();
    expect(figures(tl, T + 30 * MINUTE)[0]).toMatchObject({
      ackMs: null,
      ackMet: null,
      resolveMet: null,
      tier: 'L1',
      firstForVendor: true,
    });
    // Past 30 min, even before the worker has recorded it, the acknowledge target is missed.
    expect(figures(tl, T + 41 * MINUTE)[0]).toMatchObject({ ackMet: false, resolveMet: null });
  });

  it('counts the miss the worker recorded, and times the vendor from the hand-over', () => {
    const tl = handedOver();
    const recorded = tl.due(T + 40 * MINUTE);
    expect(recorded.map((e) => e.kind)).toContain('deadline_missed');
    tl.run({ type: 'vendor_acknowledge' }, T + 50 * MINUTE);
    tl.run({ type: 'vendor_done', note: 'done' }, T + 90 * MINUTE);
    expect(figures(tl, T + 90 * MINUTE)).toEqual([
      expect.objectContaining({ ackMs: 40 * MINUTE, ackMet: false, resolveMs: 80 * MINUTE, resolveMet: true }),
    ]);
  });

  it('leaves a target out of the contract unjudged, and counts an incident once per vendor', () => {
    const tl = handedOver({ id: 9, name: 'Netcore' });
    tl.run({ type: 'vendor_acknowledge' }, T + 20 * MINUTE);
    tl.run({ type: 'vendor_done', note: 'done' }, T + 30 * MINUTE);
    tl.run({ type: 'engage_vendor', vendor: { ...vendor, name: 'Netcore SA' }, note: 'again' }, T + HOUR);
    tl.run({ type: 'resolve', resolution: 'fixed' }, T + 2 * HOUR);
    const [first, second] = figures(tl, T + 2 * HOUR);
    expect(first).toMatchObject({
      ackMs: 10 * MINUTE,
      ackMet: null,
      resolveMs: 20 * MINUTE,
      resolveMet: null,
      firstForVendor: true,
    });
    // The second hand-over ends with the incident's resolution, an hour in: within its 2 h.
    expect(second).toMatchObject({
      vendorName: 'Netcore SA',
      resolveMs: HOUR,
      resolveMet: true,
      ackMet: false,
      firstForVendor: false,
    });
  });
});
