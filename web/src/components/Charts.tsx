import { useId } from 'react';

/** One bar: its label, its value (same unit for the whole chart), and the text drawn beside it. */
export interface Bar {
  label: string;
  value: number | null;
  text: string;
  /** A second line under the label (the group a bar belongs to). */
  group?: string;
  tone?: 'a' | 'b' | 'c' | 'd';
}

const ROW = 26;
const LABEL = 200;
const WIDTH = 760;
const TEXT = 240;

/**
 * Horizontal bars in plain SVG. Screen readers get the title and each bar's label and text (the
 * same words as drawn), never the bare geometry.
 */
export function BarChart({ title, bars, max, testId }: { title: string; bars: Bar[]; max?: number; testId?: string }) {
  const id = useId();
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value ?? 0), 1e-9);
  const plot = WIDTH - LABEL - TEXT;
  const height = bars.length * ROW + 8;
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-t ${id}-d`}
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        style={{ maxWidth: WIDTH }}
        preserveAspectRatio="xMinYMin meet"
      >
        <desc id={`${id}-d`}>{bars.map((b) => `${b.group ? `${b.group}, ` : ''}${b.label}: ${b.text}`).join('; ')}</desc>
        {bars.map((b, i) => {
          const y = 4 + i * ROW;
          const w = b.value === null ? 0 : Math.max(b.value > 0 ? 2 : 0, (b.value / top) * plot);
          return (
            <g key={i} className={`bar tone-${b.tone ?? 'a'}`}>
              <text x={LABEL - 8} y={y + ROW / 2} textAnchor="end" dominantBaseline="middle" className="bar-label">
                {b.group ? `${b.group} · ${b.label}` : b.label}
              </text>
              <rect x={LABEL} y={y + 3} width={w} height={ROW - 8} rx={2} />
              <text x={LABEL + w + 6} y={y + ROW / 2} dominantBaseline="middle" className="bar-text">
                {b.text}
              </text>
            </g>
          );
        })}
        <line x1={LABEL} x2={LABEL} y1={0} y2={height} className="axis" />
      </svg>
    </figure>
  );
}
