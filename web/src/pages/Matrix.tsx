import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, PRIORITIES, type Localized, type Matrix, type MatrixChange } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, formatIsoDuration, useT } from '../i18n';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

type Cell = Matrix['cells'][number];
const cellKey = (category: string, tier: string) => `${category}/${tier}`;

/** A cell's actions edited as lines of the current language; the other language follows by position. */
function editedCell(cell: Cell, text: string, locale: 'fr' | 'en'): Cell {
  const lines = text
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);
  const actions: Localized[] = lines.map((line, n) => {
    const before = cell.actions[n];
    return before ? { ...before, [locale]: line } : { fr: line, en: line };
  });
  const mandatory = cell.mandatory?.filter((n) => n < actions.length);
  return { ...cell, actions, ...(cell.mandatory ? { mandatory } : {}) };
}

export function MatrixPage() {
  const { t, l, locale } = useT();
  const { user } = useSession();
  const client = useQueryClient();
  const [shown, setShown] = useState<number | undefined>(undefined);
  const current = useMatrix();
  const viewed = useMatrix(shown);
  const versions = useQuery({
    queryKey: ['matrix-versions'],
    queryFn: () => api<Array<{ version: number; createdAt: string; comment: string | null }>>('GET', '/matrix/versions'),
  });
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [reviewing, setReviewing] = useState(false);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [from, setFrom] = useState<number | ''>('');
  const [to, setTo] = useState<number | ''>('');
  const diff = useQuery({
    queryKey: ['matrix-diff', from, to],
    queryFn: () => api<{ changes: MatrixChange[] }>('GET', `/matrix/diff?from=${from}&to=${to}`),
    enabled: from !== '' && to !== '',
  });

  const m = editing ? current.data : viewed.data;
  if (current.error) return <ErrorMessage error={current.error} />;
  if (!m) return <p>{t('common.loading')}</p>;
  const isAdmin = user?.role === 'admin';
  const lines = (cell: Cell) => cell.actions.map((a) => a[locale]).join('\n');
  const changed = m.cells
    .filter((c) => draft[cellKey(c.category, c.tier)] !== undefined)
    .map((c) => ({ before: c, after: editedCell(c, draft[cellKey(c.category, c.tier)]!, locale) }))
    .filter(({ before, after }) => JSON.stringify(before) !== JSON.stringify(after));

  const save = async () => {
    setError(null);
    try {
      const cells = m.cells.map((c) => changed.find((x) => x.before === c)?.after ?? c);
      const next = await api<Matrix>('PUT', '/matrix', { ...m, cells, version: m.version, comment: comment || null });
      setSaved(next.version);
      setEditing(false);
      setReviewing(false);
      setDraft({});
      setComment('');
      setShown(undefined);
      await client.invalidateQueries({ queryKey: ['matrix'] });
      await client.invalidateQueries({ queryKey: ['matrix-versions'] });
    } catch (err) {
      setError(err); // the draft stays as it is
    }
  };

  return (
    <section aria-labelledby="matrix-title" className="matrix-page">
      <h1 id="matrix-title">
        {t('matrix.title')} <span className="muted">— {t('common.version', { v: m.version })}</span>
      </h1>
      <div className="toolbar no-print">
        <label>
          {t('matrix.versions')}
          <select
            value={shown ?? ''}
            disabled={editing}
            onChange={(e) => setShown(e.target.value ? Number(e.target.value) : undefined)}
          >
            <option value="">
              {current.data?.version} ({t('matrix.current')})
            </option>
            {versions.data
              ?.filter((v) => v.version !== current.data?.version)
              .map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version} · {formatDate(v.createdAt)} {v.comment ? `· ${v.comment}` : ''}
                </option>
              ))}
          </select>
        </label>
        <button type="button" onClick={() => window.print()}>
          {t('matrix.print')}
        </button>
        {isAdmin && !editing && (
          <button type="button" onClick={() => (setShown(undefined), setEditing(true), setSaved(null))}>
            {t('matrix.edit')}
          </button>
        )}
        {editing && (
          <>
            <button type="button" onClick={() => setReviewing(true)}>
              {t('matrix.review')}
            </button>
            <button type="button" className="secondary" onClick={() => (setEditing(false), setReviewing(false), setDraft({}))}>
              {t('common.cancel')}
            </button>
          </>
        )}
      </div>
      {saved !== null && (
        <p role="status" className="ok no-print">
          {t('matrix.saved', { v: saved })}
        </p>
      )}

      {reviewing && (
        <section className="card diff" aria-labelledby="diff-title">
          <h2 id="diff-title">{t('matrix.diff', { v: m.version })}</h2>
          {changed.length === 0 ? (
            <p>{t('matrix.noChanges')}</p>
          ) : (
            <ul>
              {changed.map(({ before, after }) => (
                <li key={cellKey(before.category, before.tier)}>
                  <strong>
                    {l(m.categories.find((c) => c.key === before.category)?.name)} × {before.tier}
                  </strong>
                  <ul>
                    {before.actions
                      .filter((a, n) => a[locale] !== after.actions[n]?.[locale])
                      .map((a, n) => (
                        <li key={`d${n}`}>
                          <del>{a[locale]}</del>
                        </li>
                      ))}
                    {after.actions
                      .filter((a, n) => a[locale] !== before.actions[n]?.[locale])
                      .map((a, n) => (
                        <li key={`i${n}`}>
                          <ins>{a[locale]}</ins>
                        </li>
                      ))}
                  </ul>
                </li>
              ))}
            </ul>
          )}
          <label>
            {t('matrix.comment')}
            <input value={comment} maxLength={500} onChange={(e) => setComment(e.target.value)} />
          </label>
          <ErrorMessage error={error} />
          <button type="button" disabled={changed.length === 0} onClick={() => void save()}>
            {t('matrix.saveVersion')}
          </button>
        </section>
      )}

      <div className="grid-wrap">
        <table className="matrix" data-testid="matrix">
          <thead>
            <tr>
              <th scope="col">{t('common.category')}</th>
              {m.tiers.map((tier) => (
                <th key={tier.key} scope="col">
                  <div>
                    {tier.key} · {l(tier.name)}
                  </div>
                  <div className="sla">
                    <span className="muted">{t('matrix.sla')}</span>
                    <ul>
                      {PRIORITIES.map((p) => {
                        const s = m.sla.find((x) => x.tier === tier.key && x.priority === p && !x.category);
                        return (
                          s && (
                            <li key={p}>
                              {p}: {formatIsoDuration(s.acknowledge, locale)} / {formatIsoDuration(s.resolve, locale)}
                            </li>
                          )
                        );
                      })}
                    </ul>
                  </div>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {m.categories.map((category) => (
              <tr key={category.key}>
                <th scope="row">
                  {l(category.name)}
                  {category.confidential && <Confidential rule={category.confidential} />}
                </th>
                {m.tiers.map((tier) => {
                  const cell = m.cells.find((c) => c.category === category.key && c.tier === tier.key);
                  if (!cell) return <td key={tier.key} />;
                  const key = cellKey(category.key, tier.key);
                  return (
                    <td key={tier.key}>
                      {editing ? (
                        <textarea
                          aria-label={t('matrix.cellLabel', { category: l(category.name), tier: tier.key })}
                          data-cell={key}
                          rows={Math.max(4, cell.actions.length * 3)}
                          value={draft[key] ?? lines(cell)}
                          onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
                        />
                      ) : (
                        <ol>
                          {cell.actions.map((a, n) => (
                            <li key={n} className={cell.mandatory?.includes(n) ? 'mandatory' : ''}>
                              {a[locale]}
                            </li>
                          ))}
                        </ol>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <section className="no-print compare" aria-labelledby="compare-title">
        <h2 id="compare-title">{t('matrix.compare')}</h2>
        <div className="row">
          {(
            [
              ['matrix.from', from, setFrom],
              ['matrix.to', to, setTo],
            ] as const
          ).map(([label, value, setter]) => (
            <label key={label}>
              {t(label)}
              <select value={value} onChange={(e) => setter(e.target.value ? Number(e.target.value) : '')}>
                <option value="">—</option>
                {versions.data?.map((v) => (
                  <option key={v.version} value={v.version}>
                    {v.version}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
        <ErrorMessage error={diff.error} />
        {diff.data && (
          <ul className="changes" data-testid="version-diff">
            {diff.data.changes.map((c, n) => (
              <li key={n}>
                <code>{c.path}</code> {t(`matrix.${c.kind}`)}
                {c.before !== undefined && <del>{JSON.stringify(c.before)}</del>}
                {c.after !== undefined && <ins>{JSON.stringify(c.after)}</ins>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}

/** Who sees a confidential category's incidents besides those working them: its tiers and named people. */
function Confidential({ rule }: { rule: boolean | { tiers: string[]; users: number[] } }) {
  const { t } = useT();
  const named = typeof rule === 'object' ? rule : { tiers: [], users: [] };
  const who = [...named.tiers, ...(named.users.length ? [t('matrix.namedUsers', { n: named.users.length })] : [])];
  return (
    <small className="confidential">
      {t('matrix.confidential')}
      {who.length ? ` · ${who.join(', ')}` : ''}
    </small>
  );
}
