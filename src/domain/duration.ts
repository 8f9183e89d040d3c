/**
 * ISO 8601 durations as used by SLA targets ("PT15M", "P1DT4H", "PT30S").
 * Calendar units (years, months) are refused: an SLA target must be an exact length of time.
 * Days are 24 hours and weeks 7 days of running clock time (business calendars apply on top).
 */
export type Millis = number & { readonly __unit: 'ms' };

const PATTERN = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

export function parseDuration(text: string): Millis | undefined {
  const m = PATTERN.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, min, s] = m;
  const ms =
    Number(w ?? 0) * 604_800_000 +
    Number(d ?? 0) * 86_400_000 +
    Number(h ?? 0) * 3_600_000 +
    Number(min ?? 0) * 60_000 +
    Math.round(Number(s ?? 0) * 1000);
  return ms as Millis;
}

/** Canonical ISO 8601 text for a number of milliseconds, e.g. 5_400_000 -> "PT1H30M". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return 'PT0S';
  let rest = Math.round(ms);
  const d = Math.floor(rest / 86_400_000);
  rest -= d * 86_400_000;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  let out = 'P' + (d ? `${d}D` : '');
  if (h || m || s) out += 'T' + (h ? `${h}H` : '') + (m ? `${m}M` : '') + (s ? `${s}S` : '');
  return out;
}
