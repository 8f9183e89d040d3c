import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, type Incident } from '../api';
import { PriorityBadge } from '../components/Badges';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT } from '../i18n';
import { useMatrix } from '../matrix';

interface Dashboard {
  open: Array<{ tier: string; category: string; count: number }>;
  breaches: { events: number; incidents: number };
  oldest: Array<{ tier: string; incident: Incident }>;
}

export function DashboardPage() {
  const { t, l } = useT();
  const matrix = useMatrix();
  // "Today" is the user's own day, in their time zone.
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const since = midnight.toISOString();
  const data = useQuery({
    queryKey: ['dashboard', since],
    queryFn: () => api<Dashboard>('GET', `/dashboard?since=${encodeURIComponent(since)}`),
    refetchInterval: 30_000,
  });
  if (data.error) return <ErrorMessage error={data.error} />;
  if (!data.data || !matrix.data) return <p>{t('common.loading')}</p>;
  const d = data.data;
  const m = matrix.data;
  const max = Math.max(1, ...d.open.map((x) => x.count));
  const count = (category: string, tier: string) => d.open.find((x) => x.category === category && x.tier === tier)?.count ?? 0;
  return (
    <section aria-labelledby="dash-title">
      <h1 id="dash-title">{t('dashboard.title')}</h1>
      <div className="kpis">
        <div className="card">
          <h2>{t('dashboard.breaches')}</h2>
          <p className="big">{d.breaches.events}</p>
          <p className="muted">{t('dashboard.breachesText', d.breaches)}</p>
        </div>
      </div>
      <h2>{t('dashboard.heat')}</h2>
      <div className="grid-wrap">
        <table className="heat" data-testid="heatmap">
          <thead>
            <tr>
              <th scope="col">{t('common.category')}</th>
              {m.tiers.map((x) => (
                <th key={x.key} scope="col">
                  {x.key}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {m.categories.map((c) => (
              <tr key={c.key}>
                <th scope="row">{l(c.name)}</th>
                {m.tiers.map((x) => {
                  const n = count(c.key, x.key);
                  const level = n === 0 ? 0 : Math.ceil((n / max) * 4);
                  return (
                    <td key={x.key} className={`heat-${level}`}>
                      {n}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{t('dashboard.oldest')}</h2>
      <ul className="cards">
        {d.oldest.map(({ tier, incident }) => (
          <li key={tier} className="card">
            <strong>{tier}</strong> · <PriorityBadge priority={incident.priority} />{' '}
            <Link to={`/incidents/${incident.id}`}>
              #{incident.id} {incident.title}
            </Link>{' '}
            <span className="muted">{formatDate(incident.createdAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
