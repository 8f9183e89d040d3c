import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { isoTime } from '../../src/http/iso-time.js';

test.prop([fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 })], { numRuns: 2000 })(
  'formats every instant of years 0000 to 9999 exactly as Date#toISOString',
  (ms) => {
    expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  },
);

test('formats the edges of days, leap days and the epoch', () => {
  for (const text of ['1970-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2000-03-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '2100-02-28T12:00:00.001Z'])
    expect(isoTime(Date.parse(text))).toBe(text);
});
