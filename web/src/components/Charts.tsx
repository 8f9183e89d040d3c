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

/** One line of a chart over time: a value per point of the x axis. */
export interface Series {
  key: string;
  label: string;
  values: number[];
  tone: 'a' | 'b' | 'c' | 'd';
}

const LINE_HEIGHT = 220;
const LEFT = 40;
const BOTTOM = 24;
const LEGEND = 22;
/** Room right of the plot for half of the last date label. */
const RIGHT = 40;

/**
 * Lines over time in plain SVG, one point per bucket and series. Screen readers get the title and
 * the figures of every bucket as text; each point also has its figures as a tooltip.
 */
export function LineChart({
  title,
  labels,
  series,
  testId,
}: {
  title: string;
  labels: string[];
  series: Series[];
  testId?: string;
}) {
  const id = useId();
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = LINE_HEIGHT - BOTTOM - LEGEND;
  const x = (i: number) => LEFT + (labels.length === 1 ? plotWidth / 2 : (i * plotWidth) / (labels.length - 1));
  const y = (v: number) => LEGEND + plotHeight - (v / top) * plotHeight;
  // Some 8 date labels fit under the axis; the others are in the tooltips and the description.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const figures = (i: number) => series.map((s) => `${s.label} ${s.values[i]}`).join(', ');
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption id={`${id}-t`}>{title}</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-t ${id}-d`}
        viewBox={`0 0 ${WIDTH} ${LINE_HEIGHT}`}
        width="100%"
        style={{ maxWidth: WIDTH }}
        preserveAspectRatio="xMinYMin meet"
      >
        <desc id={`${id}-d`}>{labels.map((l, i) => `${l}: ${figures(i)}`).join('; ')}</desc>
        {series.map((s, k) => (
          <g key={s.key} className={`legend tone-${s.tone}`} transform={`translate(${LEFT + k * 170}, 4)`}>
            <rect width={12} height={12} />
            <text x={16} y={10} className="bar-text">
              {s.label}
            </text>
          </g>
        ))}
        <line x1={LEFT} x2={LEFT} y1={LEGEND} y2={LEGEND + plotHeight} className="axis" />
        <line x1={LEFT} x2={LEFT + plotWidth} y1={LEGEND + plotHeight} y2={LEGEND + plotHeight} className="axis" />
        <text x={LEFT - 6} y={LEGEND + 4} textAnchor="end" className="bar-text">
          {top}
        </text>
        <text x={LEFT - 6} y={LEGEND + plotHeight} textAnchor="end" className="bar-text">
          0
        </text>
        {labels.map((l, i) =>
          i % every === 0 ? (
            <text key={l} x={x(i)} y={LINE_HEIGHT - 6} textAnchor="middle" className="bar-text">
              {l}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.key} className={`line tone-${s.tone}`} data-series={s.key}>
            <polyline points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={3} data-bucket={labels[i]} data-value={v}>
                <title>{`${labels[i]}: ${s.label} ${v}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
    </figure>
  );
}
