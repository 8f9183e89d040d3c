import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, OPEN_STATUSES, PRIORITIES, type QueueItem } from '../api';
import { PriorityBadge, StatusBadge } from '../components/Badges';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDuration, useT } from '../i18n';
import { useNow } from '../live';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

interface Filters {
  tier: string;
  category: string;
  priority: string;
  status: string;
  text: string;
}
const EMPTY: Filters = { tier: '', category: '', priority: '', status: '', text: '' };
const VIEWS = 'palier.queue.views';
export const QUEUE_MARK = 'palier:queue-rendered';

export const queueQuery = (params: URLSearchParams) => ({
  queryKey: ['queue', params.toString()],
  queryFn: () => api<{ items: QueueItem[] }>('GET', `/queue?${params}`),
});

function loadViews(): Record<string, Filters> {
  try {
    return JSON.parse(localStorage.getItem(VIEWS) ?? '{}') as Record<string, Filters>;
  } catch {
    return {};
  }
}

export function QueuePage() {
  const { t, l, locale } = useT();
  const { user } = useSession();
  const matrix = useMatrix();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [views, setViews] = useState(loadViews);
  const [viewName, setViewName] = useState('');
  const now = useNow();

  const params = new URLSearchParams();
  // An agent sees their own tiers unless they pick one; others see every tier.
  if (filters.tier) params.set('tier', filters.tier);
  for (const key of ['category', 'priority', 'status', 'text'] as const) if (filters[key]) params.set(key, filters[key]);
  const queue = useQuery(queueQuery(params));

  // The first queue on screen, for the first-page benchmark (bench/web-first-page.ts).
  useEffect(() => {
    if (queue.data && performance.getEntriesByName(QUEUE_MARK).length === 0) performance.mark(QUEUE_MARK);
  }, [queue.data]);

  const tiers = matrix.data?.tiers ?? [];
  const shownTiers = user?.role === 'agent' ? tiers.filter((x) => user.tiers.includes(x.key)) : tiers;
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setFilters({ ...filters, [key]: e.target.value });
  const categoryName = (key: string) => l(matrix.data?.categories.find((c) => c.key === key)?.name) || key;

  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">
        {t('queue.title')} {user?.role === 'agent' ? user.tiers.join(', ') : ''}
      </h1>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('common.tier')}
          <select value={filters.tier} onChange={set('tier')}>
            <option value="">{t('common.all')}</option>
            {shownTiers.map((x) => (
              <option key={x.key} value={x.key}>
                {x.key} · {l(x.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.category')}
          <select value={filters.category} onChange={set('category')}>
            <option value="">{t('common.all')}</option>
            {matrix.data?.categories.map((c) => (
              <option key={c.key} value={c.key}>
                {l(c.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.priority')}
          <select value={filters.priority} onChange={set('priority')}>
            <option value="">{t('common.all')}</option>
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          {t('common.status')}
          <select value={filters.status} onChange={set('status')}>
            <option value="">{t('common.all')}</option>
            {OPEN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('common.search')}
          <input type="search" value={filters.text} onChange={set('text')} />
        </label>
        <label>
          {t('queue.viewName')}
          <input value={viewName} onChange={(e) => setViewName(e.target.value)} />
        </label>
        <button
          type="button"
          disabled={!viewName.trim()}
          onClick={() => {
            const next = { ...views, [viewName.trim()]: filters };
            localStorage.setItem(VIEWS, JSON.stringify(next));
            setViews(next);
            setViewName('');
          }}
        >
          {t('queue.saveView')}
        </button>
      </form>
      {Object.keys(views).length > 0 && (
        <nav aria-label={t('queue.views')} className="views">
          {Object.entries(views).map(([name, v]) => (
            <button key={name} type="button" className="chip" onClick={() => setFilters(v)}>
              {name}
            </button>
          ))}
        </nav>
      )}
      <ErrorMessage error={queue.error} />
      {queue.data && (
        <>
          <p className="muted" aria-live="polite">
            {t('queue.count', { n: queue.data.items.length })}
          </p>
          {queue.data.items.length === 0 ? (
            <p>{t('queue.empty')}</p>
          ) : (
            <table className="queue" data-testid="queue">
              <thead>
                <tr>
                  <th scope="col">{t('queue.breach')}</th>
                  <th scope="col">{t('common.priority')}</th>
                  <th scope="col">#</th>
                  <th scope="col">{t('incident.description')}</th>
                  <th scope="col">{t('common.category')}</th>
                  <th scope="col">{t('common.tier')}</th>
                  <th scope="col">{t('common.status')}</th>
                </tr>
              </thead>
              <tbody>
                {queue.data.items.map((i) => {
                  const left = i.breachAt ? Date.parse(i.breachAt) - now : null;
                  return (
                    <tr key={i.id} className={left !== null && left < 0 ? 'late' : ''}>
                      <td className="countdown">
                        {i.status === 'pending'
                          ? t('queue.paused')
                          : left === null
                            ? '—'
                            : left < 0
                              ? t('queue.breached', { d: formatDuration(left, locale) })
                              : formatDuration(left, locale)}
                      </td>
                      <td>
                        <PriorityBadge priority={i.priority} />
                      </td>
                      <td>{i.id}</td>
                      <td>
                        <Link to={`/incidents/${i.id}`}>{i.title}</Link>
                      </td>
                      <td>{categoryName(i.category)}</td>
                      <td>{i.tier}</td>
                      <td>
                        <StatusBadge status={i.status} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
      {queue.isPending && <p>{t('common.loading')}</p>}
    </section>
  );
}
