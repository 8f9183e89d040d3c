import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, type Incident } from '../api';
import { PriorityBadge, StatusBadge } from '../components/Badges';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT } from '../i18n';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

/** The requester's form: impact and urgency asked in plain words, the priority is the matrix's business. */
export function ReportPage() {
  const { t, l } = useT();
  const matrix = useMatrix();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [category, setCategory] = useState('');
  const [impact, setImpact] = useState(3);
  const [urgency, setUrgency] = useState(3);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const categories = matrix.data?.categories ?? [];

  return (
    <section aria-labelledby="report-title">
      <h1 id="report-title">{t('report.title')}</h1>
      <form
        className="stack card wide"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const created = await api<Incident>('POST', '/incidents', { title, description, category, impact, urgency });
            void client.invalidateQueries({ queryKey: ['mine'] });
            navigate(`/incidents/${created.id}`);
          } catch (err) {
            setError(err); // every field keeps what was typed
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          {t('report.what')}
          <input name="title" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          {t('report.category')}
          <select name="category" required value={category} onChange={(e) => setCategory(e.target.value)}>
            <option value="" disabled>
              —
            </option>
            {categories.map((c) => (
              <option key={c.key} value={c.key}>
                {l(c.name)}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>{t('report.impact')}</legend>
          {[1, 2, 3].map((n) => (
            <label key={n} className="radio">
              <input type="radio" name="impact" value={n} checked={impact === n} onChange={() => setImpact(n)} />{' '}
              {t(`report.impact.${n as 1 | 2 | 3}`)}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('report.urgency')}</legend>
          {[1, 2, 3].map((n) => (
            <label key={n} className="radio">
              <input type="radio" name="urgency" value={n} checked={urgency === n} onChange={() => setUrgency(n)} />{' '}
              {t(`report.urgency.${n as 1 | 2 | 3}`)}
            </label>
          ))}
        </fieldset>
        <label>
          {t('report.details')}
          <textarea
            name="description"
            rows={6}
            maxLength={20000}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {t('report.submit')}
        </button>
      </form>
    </section>
  );
}

export function PortalPage() {
  const { t, l } = useT();
  const { user } = useSession();
  const matrix = useMatrix();
  const mine = useQuery({
    queryKey: ['mine'],
    queryFn: () => api<{ items: Incident[] }>('GET', `/incidents?requester=${user!.id}&sort=-updated_at&limit=100`),
  });
  return (
    <section aria-labelledby="portal-title">
      <h1 id="portal-title">{t('portal.title')}</h1>
      <p>
        <Link to="/report" className="button">
          {t('nav.report')}
        </Link>
      </p>
      <ErrorMessage error={mine.error} />
      {mine.data?.items.length === 0 && <p>{t('portal.empty')}</p>}
      <ul className="cards" data-testid="my-incidents">
        {mine.data?.items.map((i) => (
          <li key={i.id} className="card">
            <Link to={`/incidents/${i.id}`}>
              <strong>#{i.id}</strong> {i.title}
            </Link>
            <p className="meta">
              <StatusBadge status={i.status} /> <PriorityBadge priority={i.priority} /> ·{' '}
              {l(matrix.data?.categories.find((c) => c.key === i.category)?.name) || i.category} · {formatDate(i.updatedAt)}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
