import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, PRIORITIES, type Locale } from '../api';
import { BarChart, LineChart, type Bar } from '../components/Charts';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDuration, formatIsoDuration, useT } from '../i18n';
import { useMatrix } from '../matrix';

type Rate = number | null;
interface Volume {
  opened: number;
  acknowledged: number;
  resolved: number;
  reopened: number;
  reopenRate: Rate;
  topTier: {
    tier: string;
    reached: number;
    share: Rate;
    byVendor: Array<{ vendorId: number; name: string; reached: number; share: Rate }>;
    withoutVendor: number;
  };
}
interface Times {
  acknowledged: number;
  ackMeanMs: number | null;
  ackMedianMs: number | null;
  ackBusinessMeanMs: number | null;
  ackBusinessMedianMs: number | null;
  resolved: number;
  resolveMeanMs: number | null;
  resolveMedianMs: number | null;
  resolveBusinessMeanMs: number | null;
  resolveBusinessMedianMs: number | null;
}
interface Sla {
  tier: string;
  priority: string;
  ackMet: number;
  ackMissed: number;
  ackCompliance: Rate;
  resolveMet: number;
  resolveMissed: number;
  resolveCompliance: Rate;
}
interface Escalation {
  category: string;
  tier: string;
  stints: number;
  escalated: number;
  byHand: number;
  missedDeadline: number;
  otherAutomatic: number;
  escalationRate: Rate;
}
interface TierTime {
  tier: string;
  completed: number;
  wallMeanMs: number | null;
  businessMeanMs: number | null;
}
interface Vendor {
  vendorId: number;
  name: string;
  ackTarget: string | null;
  resolveTarget: string | null;
  engagements: number;
  incidents: number;
  reachedTop: number;
  topShare: Rate;
  acknowledged: number;
  ackMeanMs: number | null;
  ackMedianMs: number | null;
  ackMet: number;
  ackMissed: number;
  ackCompliance: Rate;
  resolved: number;
  resolveMeanMs: number | null;
  resolveMedianMs: number | null;
  resolveMet: number;
  resolveMissed: number;
  resolveCompliance: Rate;
}

interface TrendBucket {
  start: string;
  opened: number;
  acknowledged: number;
  resolved: number;
  escalated: number;
  escalatedByHand: number;
  escalatedAutomatically: number;
  ackMet: number;
  ackMissed: number;
  resolveMet: number;
  resolveMissed: number;
}
interface Trend {
  interval: Interval;
  buckets: TrendBucket[];
}
const INTERVALS = ['day', 'week'] as const;
type Interval = (typeof INTERVALS)[number];

/** A date as the browser's own calendar day, YYYY-MM-DD. */
const day = (d: Date) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

function defaultPeriod() {
  const to = new Date();
  to.setDate(to.getDate() + 1);
  const from = new Date();
  from.setDate(from.getDate() - 29);
  return { from: day(from), to: day(to) };
}

const FILTERS = ['category', 'tier', 'priority'] as const;

export function ReportsPage() {
  const { t, l, locale } = useT();
  const matrix = useMatrix();
  const [params, setParams] = useSearchParams();
  const fallback = defaultPeriod();
  const current = {
    from: params.get('from') ?? fallback.from,
    to: params.get('to') ?? fallback.to,
    category: params.get('category') ?? '',
    tier: params.get('tier') ?? '',
    priority: params.get('priority') ?? '',
  };
  const [draft, setDraft] = useState(current);
  const query = new URLSearchParams({ from: current.from, to: current.to });
  for (const f of FILTERS) if (current[f]) query.set(f, current[f]);
  const qs = query.toString();
  const get = <T,>(name: string) => ({ queryKey: ['reports', name, qs], queryFn: () => api<T>('GET', `/reports/${name}?${qs}`) });
  const interval: Interval = params.get('interval') === 'week' ? 'week' : 'day';
  const trend = useQuery({
    queryKey: ['reports', 'trend', qs, interval],
    queryFn: () => api<Trend>('GET', `/reports/trend?${qs}&interval=${interval}`),
  });
  const setInterval = (next: Interval) => {
    const p = new URLSearchParams(params);
    p.set('interval', next);
    setParams(p);
  };
  const volume = useQuery(get<Volume>('volume'));
  const times = useQuery(get<Times>('times'));
  const sla = useQuery(get<Sla[]>('sla'));
  const escalations = useQuery(get<Escalation[]>('escalations'));
  const tierTime = useQuery(get<TierTime[]>('tier-time'));
  const vendors = useQuery(get<Vendor[]>('vendors'));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams({ from: draft.from, to: draft.to });
    for (const f of FILTERS) if (draft[f]) next.set(f, draft[f]);
    if (params.get('interval')) next.set('interval', interval);
    setParams(next);
  };
  const pct = (r: Rate) =>
    r === null ? '–' : new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(r);
  const dur = (ms: number | null) => (ms === null ? '–' : formatDuration(ms, locale));
  const error = [volume, times, sla, escalations, tierTime, vendors].find((q) => q.error)?.error;
  const m = matrix.data;

  return (
    <section aria-labelledby="reports-title" className="reports">
      <h1 id="reports-title">{t('reports.title')}</h1>
      <form className="filters no-print" onSubmit={submit}>
        <label>
          {t('reports.from')}
          <input type="date" required value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          {t('reports.to')}
          <input type="date" required value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <label>
          {t('common.category')}
          <select value={draft.category} onChange={(e) => setDraft({ ...draft, category: e.target.value })}>
            <option value="">{t('common.all')}</option>
            {m?.categories.map((c) => (
              <option key={c.key} value={c.key}>
                {l(c.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.tier')}
          <select value={draft.tier} onChange={(e) => setDraft({ ...draft, tier: e.target.value })}>
            <option value="">{t('common.all')}</option>
            {m?.tiers.map((x) => (
              <option key={x.key} value={x.key}>
                {x.key}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.priority')}
          <select value={draft.priority} onChange={(e) => setDraft({ ...draft, priority: e.target.value })}>
            <option value="">{t('common.all')}</option>
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button">
          {t('reports.apply')}
        </button>
      </form>
      <p className="muted">{t('reports.period', { from: current.from, to: current.to })}</p>
      <ErrorMessage error={error} />
      {volume.data && <VolumeSection v={volume.data} pct={pct} qs={qs} />}
      <TrendSection trend={trend} interval={interval} onInterval={setInterval} qs={qs} />
      {times.data && <TimesSection times={times.data} dur={dur} qs={qs} />}
      {sla.data && (
        <>
          <BarChart
            title={t('reports.sla')}
            testId="chart-sla"
            max={1}
            bars={sla.data.flatMap((r): Bar[] => [
              {
                group: `${r.tier} ${r.priority}`,
                label: t('reports.slaAck'),
                value: r.ackCompliance,
                text: `${pct(r.ackCompliance)} (${t('reports.slaCell', { met: r.ackMet, missed: r.ackMissed })})`,
                tone: 'a',
              },
              {
                group: `${r.tier} ${r.priority}`,
                label: t('reports.slaResolve'),
                value: r.resolveCompliance,
                text: `${pct(r.resolveCompliance)} (${t('reports.slaCell', { met: r.resolveMet, missed: r.resolveMissed })})`,
                tone: 'b',
              },
            ])}
          />
          <ReportFiles report="sla" qs={qs} title={t('reports.sla')} />
        </>
      )}
      {tierTime.data && (
        <>
          <BarChart
            title={t('reports.tierTime')}
            testId="chart-tier-time"
            bars={tierTime.data.flatMap((r): Bar[] => [
              {
                group: r.tier,
                label: t('reports.wall'),
                value: r.wallMeanMs,
                text: `${dur(r.wallMeanMs)} (${t('reports.tierTimeText', { completed: r.completed })})`,
                tone: 'a',
              },
              { group: r.tier, label: t('reports.business'), value: r.businessMeanMs, text: dur(r.businessMeanMs), tone: 'b' },
            ])}
          />
          <ReportFiles report="tier-time" qs={qs} title={t('reports.tierTime')} />
        </>
      )}
      {escalations.data && m && <HeatMap rows={escalations.data} matrix={m} pct={pct} qs={qs} />}
      {vendors.data && (
        <VendorSection
          vendors={vendors.data}
          top={volume.data?.topTier.tier ?? m?.tiers.at(-1)?.key ?? ''}
          pct={pct}
          dur={dur}
          locale={locale}
          qs={qs}
        />
      )}
    </section>
  );
}

const FILE_FORMATS = [
  { format: 'csv', name: 'CSV' },
  { format: 'xlsx', name: 'XLSX' },
  { format: 'pdf', name: 'PDF' },
] as const;

/**
 * The same figures as files from the API (format=csv, xlsx or pdf), for the report's own period and
 * filters; the PDF in the language the page is shown in.
 */
function ReportFiles({ report, qs, title }: { report: string; qs: string; title: string }) {
  const { t, locale } = useT();
  return (
    <p className="no-print report-files">
      {t('reports.download')}{' '}
      {FILE_FORMATS.map(({ format, name }, i) => (
        <span key={format}>
          {i > 0 && ' · '}
          <a
            href={`/api/v1/reports/${report}?${qs}&format=${format}${format === 'pdf' ? `&lang=${locale}` : ''}`}
            download
            data-testid={`${format}-${report}`}
            aria-label={t('reports.fileOf', { format: name, report: title })}
          >
            {name}
          </a>
        </span>
      ))}
    </p>
  );
}

/** Incidents opened per day or week, with what became of them: the trend over the period. */
function TrendSection({
  trend,
  interval,
  onInterval,
  qs,
}: {
  trend: ReturnType<typeof useQuery<Trend>>;
  interval: Interval;
  onInterval: (i: Interval) => void;
  qs: string;
}) {
  const { t } = useT();
  const buckets = trend.data?.buckets ?? [];
  const of = (pick: (b: TrendBucket) => number) => buckets.map(pick);
  return (
    <>
      <h2 id="trend-title">{t('reports.trend')}</h2>
      <p className="muted">{t('reports.trendNote')}</p>
      <div className="report-tools no-print">
        <fieldset>
          <legend>{t('reports.interval')}</legend>
          {INTERVALS.map((i) => (
            <label key={i} className="radio">
              <input type="radio" name="interval" checked={interval === i} onChange={() => onInterval(i)} />
              {t(i === 'day' ? 'reports.perDay' : 'reports.perWeek')}
            </label>
          ))}
        </fieldset>
        <ReportFiles report="trend" qs={`${qs}&interval=${interval}`} title={t('reports.trend')} />
      </div>
      <ErrorMessage error={trend.error} />
      {trend.data && (
        <LineChart
          title={t(interval === 'day' ? 'reports.trendDaily' : 'reports.trendWeekly')}
          testId="chart-trend"
          labels={buckets.map((b) => b.start)}
          series={[
            { key: 'opened', label: t('reports.opened'), values: of((b) => b.opened), tone: 'a' },
            { key: 'resolved', label: t('reports.resolved'), values: of((b) => b.resolved), tone: 'c' },
            { key: 'escalated', label: t('reports.escalated'), values: of((b) => b.escalated), tone: 'b' },
            {
              key: 'missed',
              label: t('reports.targetsMissed'),
              values: of((b) => b.ackMissed + b.resolveMissed),
              tone: 'd',
            },
          ]}
        />
      )}
    </>
  );
}

function VolumeSection({ v, pct, qs }: { v: Volume; pct: (r: Rate) => string; qs: string }) {
  const { t } = useT();
  return (
    <>
      <div className="kpis">
        <div className="card" data-testid="kpi-opened">
          <h2>{t('reports.opened')}</h2>
          <p className="big">{v.opened}</p>
        </div>
        <div className="card" data-testid="kpi-reopen">
          <h2>{t('reports.reopenRate')}</h2>
          <p className="big">{pct(v.reopenRate)}</p>
          <p className="muted">{t('reports.reopenRateText', { reopened: v.reopened, resolved: v.resolved })}</p>
        </div>
        <div className="card" data-testid="kpi-top">
          <h2>{t('reports.topShare', { tier: v.topTier.tier })}</h2>
          <p className="big">{pct(v.topTier.share)}</p>
          <p className="muted">
            {t('reports.topShareText', { reached: v.topTier.reached, opened: v.opened, without: v.topTier.withoutVendor })}
          </p>
          {v.topTier.byVendor.length > 0 && (
            <ul className="plain">
              {v.topTier.byVendor.map((b) => (
                <li key={b.vendorId}>
                  {b.name}: {b.reached} ({pct(b.share)})
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      {v.opened === 0 ? (
        <p>{t('reports.nothing')}</p>
      ) : (
        <BarChart
          title={t('reports.volume')}
          testId="chart-volume"
          bars={[
            { label: t('reports.opened'), value: v.opened, text: String(v.opened), tone: 'a' },
            { label: t('reports.acknowledged'), value: v.acknowledged, text: String(v.acknowledged), tone: 'b' },
            { label: t('reports.resolved'), value: v.resolved, text: String(v.resolved), tone: 'c' },
            { label: t('reports.reopened'), value: v.reopened, text: String(v.reopened), tone: 'd' },
          ]}
        />
      )}
      <ReportFiles report="volume" qs={qs} title={t('reports.volume')} />
    </>
  );
}

function TimesSection({ times, dur, qs }: { times: Times; dur: (ms: number | null) => string; qs: string }) {
  const { t } = useT();
  const bar = (label: string, wall: number | null, business: number | null): Bar[] => [
    { group: label, label: t('reports.wall'), value: wall, text: dur(wall), tone: 'a' },
    { group: label, label: t('reports.business'), value: business, text: dur(business), tone: 'b' },
  ];
  return (
    <>
      <h2>{t('reports.times')}</h2>
      <p className="muted">{t('reports.timesNote')}</p>
      <div className="charts">
        <BarChart
          title={t('reports.ackTitle', { n: times.acknowledged })}
          testId="chart-ack"
          bars={[
            ...bar(t('reports.mean'), times.ackMeanMs, times.ackBusinessMeanMs),
            ...bar(t('reports.median'), times.ackMedianMs, times.ackBusinessMedianMs),
          ]}
        />
        <BarChart
          title={t('reports.resolveTitle', { n: times.resolved })}
          testId="chart-resolve"
          bars={[
            ...bar(t('reports.mean'), times.resolveMeanMs, times.resolveBusinessMeanMs),
            ...bar(t('reports.median'), times.resolveMedianMs, times.resolveBusinessMedianMs),
          ]}
        />
      </div>
      <ReportFiles report="times" qs={qs} title={t('reports.times')} />
    </>
  );
}

/** The escalation rates drawn in the shape of the matrix: categories as rows, tiers as columns. */
function HeatMap({
  rows,
  matrix,
  pct,
  qs,
}: {
  rows: Escalation[];
  matrix: NonNullable<ReturnType<typeof useMatrix>['data']>;
  pct: (r: Rate) => string;
  qs: string;
}) {
  const { t, l } = useT();
  // Categories the current matrix no longer has still show, under their key.
  const categories = [
    ...matrix.categories.map((c) => ({ key: c.key, name: l(c.name) })),
    ...[...new Set(rows.map((r) => r.category))]
      .filter((k) => !matrix.categories.some((c) => c.key === k))
      .map((k) => ({ key: k, name: k })),
  ];
  const cell = (category: string, tier: string) => rows.find((r) => r.category === category && r.tier === tier);
  return (
    <>
      <h2 id="heat-title">{t('reports.heat')}</h2>
      <p className="muted">{t('reports.heatNote')}</p>
      <div className="grid-wrap">
        <table className="heat rates" data-testid="escalation-heatmap" aria-labelledby="heat-title">
          <thead>
            <tr>
              <th scope="col">{t('common.category')}</th>
              {matrix.tiers.map((x) => (
                <th key={x.key} scope="col">
                  {x.key}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {categories.map((c) => (
              <tr key={c.key}>
                <th scope="row">{c.name}</th>
                {matrix.tiers.map((x) => {
                  const r = cell(c.key, x.key);
                  const rate = r?.escalationRate ?? null;
                  const level = rate === null ? 'none' : rate === 0 ? 0 : Math.min(4, Math.ceil(rate * 4));
                  return (
                    <td key={x.key} className={`heat-${level}`} data-cell={`${c.key}/${x.key}`}>
                      {r ? (
                        <>
                          <strong className="rate">{pct(rate)}</strong>
                          <span className="sub">{t('reports.heatCell', { escalated: r.escalated, stints: r.stints })}</span>
                          <span className="sub">{t('reports.heatSplit', { byHand: r.byHand, missed: r.missedDeadline })}</span>
                          {r.otherAutomatic > 0 && (
                            <span className="sub">{t('reports.heatOther', { other: r.otherAutomatic })}</span>
                          )}
                        </>
                      ) : (
                        <span className="sub muted">{t('reports.heatEmpty')}</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ReportFiles report="escalations" qs={qs} title={t('reports.heat')} />
    </>
  );
}

function VendorSection({
  vendors,
  top,
  pct,
  dur,
  locale,
  qs,
}: {
  vendors: Vendor[];
  top: string;
  pct: (r: Rate) => string;
  dur: (ms: number | null) => string;
  locale: Locale;
  qs: string;
}) {
  const { t } = useT();
  const target = (iso: string | null) => (iso ? t('reports.target', { target: formatIsoDuration(iso, locale) }) : '');
  return (
    <>
      <h2 id="vendors-title">{t('reports.vendors')}</h2>
      {vendors.length === 0 ? (
        <p>{t('reports.vendorsEmpty')}</p>
      ) : (
        <>
          <div className="grid-wrap">
            <table data-testid="vendor-scorecard" aria-labelledby="vendors-title">
              <thead>
                <tr>
                  <th scope="col">{t('reports.vendor')}</th>
                  <th scope="col">{t('reports.handOvers')}</th>
                  <th scope="col">{t('reports.incidents')}</th>
                  <th scope="col">{t('reports.topShare', { tier: top })}</th>
                  <th scope="col">{t('reports.vendorAck')}</th>
                  <th scope="col">{t('reports.vendorResolve')}</th>
                </tr>
              </thead>
              <tbody>
                {vendors.map((v) => (
                  <tr key={v.vendorId}>
                    <th scope="row">{v.name}</th>
                    <td>{v.engagements}</td>
                    <td>{v.incidents}</td>
                    <td>
                      {v.reachedTop} ({pct(v.topShare)})
                    </td>
                    <td>
                      <strong>{pct(v.ackCompliance)}</strong> {t('reports.compliance', { met: v.ackMet, missed: v.ackMissed })}
                      <br />
                      <span className="muted">
                        {t('reports.meanMedian', { mean: dur(v.ackMeanMs), median: dur(v.ackMedianMs) })} · {target(v.ackTarget)}
                      </span>
                    </td>
                    <td>
                      <strong>{pct(v.resolveCompliance)}</strong>{' '}
                      {t('reports.compliance', { met: v.resolveMet, missed: v.resolveMissed })}
                      <br />
                      <span className="muted">
                        {t('reports.meanMedian', { mean: dur(v.resolveMeanMs), median: dur(v.resolveMedianMs) })} ·{' '}
                        {target(v.resolveTarget)}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <BarChart
            title={t('reports.vendorChart')}
            testId="chart-vendors"
            max={1}
            bars={vendors.flatMap((v): Bar[] => [
              { group: v.name, label: t('reports.slaAck'), value: v.ackCompliance, text: pct(v.ackCompliance), tone: 'a' },
              {
                group: v.name,
                label: t('reports.slaResolve'),
                value: v.resolveCompliance,
                text: pct(v.resolveCompliance),
                tone: 'b',
              },
            ])}
          />
          <ReportFiles report="vendors" qs={qs} title={t('reports.vendors')} />
        </>
      )}
    </>
  );
}
