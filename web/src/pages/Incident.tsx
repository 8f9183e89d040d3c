import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, uploadAttachment, type IncidentDetail, type TimelineEvent, type User } from '../api';
import { PriorityBadge, StatusBadge } from '../components/Badges';
import { ErrorMessage } from '../components/ErrorMessage';
import { VendorHandOff } from '../components/VendorHandOff';
import { formatDate, formatDuration, formatIsoDuration, useT, type T, type TKey } from '../i18n';
import { useGoneIncident, useNow } from '../live';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

const isOpen = (s: string) => ['new', 'acknowledged', 'in_progress', 'pending'].includes(s);

/** User names for those who may list users; others see ids (the API does not show them other users). */
function useUserNames(me: User): (id: number | null) => string {
  const { t } = useT();
  const users = useQuery({
    queryKey: ['users'],
    queryFn: () => api<{ items: User[] }>('GET', '/users?limit=500'),
    enabled: me.role === 'admin' || me.role === 'manager',
    staleTime: 60_000,
  });
  return (id) => {
    if (id === null) return t('event.system');
    if (id === me.id) return t('common.you');
    return users.data?.items.find((u) => u.id === id)?.displayName ?? t('common.user', { id });
  };
}

export function IncidentPage() {
  const id = Number(useParams().id);
  const { t, l, locale } = useT();
  const { user } = useSession();
  const me = user!;
  const client = useQueryClient();
  const name = useUserNames(me);
  const now = useNow();
  const detail = useQuery({ queryKey: ['incident', id], queryFn: () => api<IncidentDetail>('GET', `/incidents/${id}`) });
  // The incident is handled under the matrix version it was opened with.
  const matrix = useMatrix(detail.data?.matrixVersion);

  const act = useMutation({
    mutationFn: ({ path, body }: { path: string; body?: unknown }) => api('POST', `/incidents/${id}/${path}`, body ?? {}),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['incident', id] });
      void client.invalidateQueries({ queryKey: ['queue'] });
      void client.invalidateQueries({ queryKey: ['mine'] });
    },
  });

  const check = useMutation({
    mutationFn: ({ index, checked }: { index: number; checked: boolean }) =>
      api('PUT', `/incidents/${id}/checklist/${index}`, { checked }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['incident', id] }),
  });
  const [asked, setAsked] = useState<{ index: number; checked: boolean } | null>(null);
  const gone = useGoneIncident(id);

  // Nothing of it stays on screen once it has moved out of sight.
  if (gone)
    return (
      <section className="incident-gone" role="status">
        <h1>{t('incident.gone')}</h1>
        <p>{t('incident.goneWhy')}</p>
        <p>
          <Link to="/">{t('incident.goneBack')}</Link>
        </p>
      </section>
    );
  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data || !matrix.data) return <p>{t('common.loading')}</p>;
  const i = detail.data;
  const m = matrix.data;
  const staff = me.role !== 'requester';
  const works = me.role === 'admin' || me.role === 'manager' || (me.role === 'agent' && me.tiers.includes(i.tier));
  const own = i.requesterId === me.id;
  const open = isOpen(i.status);
  const tierKeys = m.tiers.map((x) => x.key);
  const here = tierKeys.indexOf(i.tier);
  const visited = new Set(i.tierTime.map((x) => x.tier));
  const category = m.categories.find((c) => c.key === i.category);

  return (
    <article className="incident" aria-labelledby="incident-title">
      <header className="incident-head">
        <h1 id="incident-title">
          <span className="muted">#{i.id}</span> {i.title}
        </h1>
        <p className="meta">
          <PriorityBadge priority={i.priority} /> <StatusBadge status={i.status} /> · {l(category?.name) || i.category} ·{' '}
          {t('common.requester')}: {name(i.requesterId)} · {t('incident.opened', { when: formatDate(i.createdAt) })}
          {i.assigneeId !== null && (
            <>
              {' '}
              · {t('common.assignee')}: {name(i.assigneeId)}
            </>
          )}
        </p>
      </header>

      <ol className="ladder" aria-label={t('incident.ladder')}>
        {m.tiers.map((x, n) => (
          <li
            key={x.key}
            className={n === here ? 'current' : visited.has(x.key) ? 'visited' : ''}
            aria-current={n === here ? 'step' : undefined}
          >
            <strong>{x.key}</strong> <span>{l(x.name)}</span>
          </li>
        ))}
      </ol>

      <div className="columns">
        <div>
          <section>
            <h2>{t('incident.description')}</h2>
            <p className="prewrap" data-testid="description">
              {i.description || '—'}
            </p>
            {i.resolution && <p className="resolution prewrap">{t('incident.resolvedWith', { text: i.resolution })}</p>}
          </section>

          {staff && (
            <section>
              <h2>{t('incident.checklist', { tier: i.tier })}</h2>
              <ul className="checklist">
                {i.checklist.map((c) => (
                  <li key={c.index}>
                    <label>
                      <input
                        type="checkbox"
                        // Shown as asked while the server confirms it; the refetch then settles it.
                        checked={asked?.index === c.index ? asked.checked : c.checked}
                        disabled={!works || !open || check.isPending}
                        onChange={(e) => {
                          const wish = { index: c.index, checked: e.target.checked };
                          setAsked(wish);
                          check.mutate(wish, { onSettled: () => setAsked(null) });
                        }}
                      />{' '}
                      {l(c.action)} {c.mandatory && <em className="mandatory">({t('incident.mandatory')})</em>}
                    </label>
                  </li>
                ))}
              </ul>
              <ErrorMessage error={check.error} />
            </section>
          )}

          <Attachments incidentId={i.id} canAdd={i.status !== 'closed' && (staff || own)} />

          <Timeline events={i.timeline} name={name} />

          {i.status !== 'closed' && (staff || own) && (
            <CommentForm onSend={(body) => act.mutateAsync({ path: 'comments', body: { body } })} />
          )}
        </div>

        <aside>
          <section>
            <h2>{t('incident.clocks')}</h2>
            <ul className="clocks">
              {i.deadlines.map((d) => {
                const left = Date.parse(d.due) - now;
                return (
                  <li key={d.clock} className={d.breached || left < 0 ? 'late' : ''}>
                    {d.kind === 'vendor'
                      ? t('incident.dueVendor', {
                          kind: t(d.clock.endsWith(':resolve') ? 'incident.kind.resolve' : 'incident.kind.acknowledge'),
                          when: formatDate(d.due),
                        })
                      : t('incident.due', { kind: t(`incident.kind.${d.kind}`), tier: d.tier ?? '', when: formatDate(d.due) })}{' '}
                    (
                    {formatIsoDuration(d.target, locale)}) —{' '}
                    {left < 0 ? t('queue.breached', { d: formatDuration(left, locale) }) : formatDuration(left, locale)}
                  </li>
                );
              })}
            </ul>
            <p>
              {i.nextEscalation
                ? i.nextEscalation.toTier
                  ? t('incident.next', { when: formatDate(i.nextEscalation.at), to: i.nextEscalation.toTier })
                  : t('incident.nextNotify', { when: formatDate(i.nextEscalation.at) })
                : t('incident.noNext')}
            </p>
            <p className="muted">{t('incident.matrixVersion', { v: i.matrixVersion })}</p>
          </section>
          <Actions
            detail={i}
            works={works}
            own={own}
            higher={tierKeys.slice(here + 1)}
            lower={tierKeys.slice(0, Math.max(here, 0)).reverse()}
            run={(path, body) => act.mutateAsync({ path, body })}
          />
          <VendorHandOff detail={i} works={works} staff={staff} run={(path, body) => act.mutateAsync({ path, body })} />
        </aside>
      </div>
    </article>
  );
}

function describe(e: TimelineEvent, t: T): string {
  const vars = { from: e.fromTier ?? '', to: e.toTier ?? '', n: typeof e.data.index === 'number' ? e.data.index + 1 : '' };
  return t(`event.${e.kind}` as TKey, vars);
}

function Timeline({ events, name }: { events: TimelineEvent[]; name: (id: number | null) => string }) {
  const { t } = useT();
  return (
    <section>
      <h2>{t('incident.timeline')}</h2>
      <ol className="timeline" data-testid="timeline">
        {events.map((e) => {
          const text = (e.data.body ?? e.data.reason ?? e.data.resolution ?? e.data.note) as string | undefined;
          return (
            <li key={e.seq} className={`ev ev-${e.kind}`}>
              <time dateTime={e.at}>{formatDate(e.at)}</time> <strong>{describe(e, t)}</strong>{' '}
              <span className="muted">{t('event.by', { who: name(e.actorId) })}</span>
              {typeof text === 'string' && text && <p className="prewrap">{text}</p>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function CommentForm({ onSend }: { onSend(body: string): Promise<unknown> }) {
  const { t } = useT();
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="stack"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        try {
          await onSend(body);
          setBody('');
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label>
        {t('incident.comment.add')}
        <textarea value={body} required rows={3} onChange={(e) => setBody(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <button type="submit">{t('incident.comment.send')}</button>
    </form>
  );
}

/** One form per command, shown only where the role and the state allow it. */
function Actions(props: {
  detail: IncidentDetail;
  works: boolean;
  own: boolean;
  higher: string[];
  lower: string[];
  run(path: string, body?: unknown): Promise<unknown>;
}) {
  const { t } = useT();
  const { detail: i, works, own, higher, lower, run } = props;
  const open = isOpen(i.status);
  const [reason, setReason] = useState('');
  const [escalateTo, setEscalateTo] = useState(higher[0] ?? '');
  const [backTo, setBackTo] = useState(lower[0] ?? '');
  const [backReason, setBackReason] = useState('');
  const [resolution, setResolution] = useState('');
  const [pendReason, setPendReason] = useState<'requester' | 'vendor'>('requester');
  const [error, setError] = useState<unknown>(null);

  const submit = (path: string, body: unknown, clear: () => void) => async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await run(path, body);
      clear();
    } catch (err) {
      setError(err); // what was typed stays in the fields
    }
  };
  const button = (path: string, label: TKey) => (
    <form onSubmit={submit(path, {}, () => undefined)}>
      <button type="submit">{t(label)}</button>
    </form>
  );
  const forms: ReactNode[] = [];
  if (works && i.status === 'new') forms.push(<div key="ack">{button('acknowledge', 'incident.acknowledge')}</div>);
  if (works && (i.status === 'new' || i.status === 'acknowledged'))
    forms.push(<div key="start">{button('start', 'incident.start')}</div>);
  if (works && i.status === 'pending') forms.push(<div key="resume">{button('resume', 'incident.resume')}</div>);
  if (works && (i.status === 'acknowledged' || i.status === 'in_progress'))
    forms.push(
      <form key="pend" className="row" onSubmit={submit('pend', { reason: pendReason }, () => undefined)}>
        <label>
          {t('incident.pend.reason')}
          <select value={pendReason} onChange={(e) => setPendReason(e.target.value as 'requester' | 'vendor')}>
            <option value="requester">{t('incident.pend.requester')}</option>
            <option value="vendor">{t('incident.pend.vendor')}</option>
          </select>
        </label>
        <button type="submit">{t('incident.pend')}</button>
      </form>,
    );
  if (works && open && higher.length > 0)
    forms.push(
      <form key="esc" className="stack" onSubmit={submit('escalate', { tier: escalateTo, reason }, () => setReason(''))}>
        <label>
          {t('incident.escalate.to')}
          <select value={escalateTo} onChange={(e) => setEscalateTo(e.target.value)}>
            {higher.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </label>
        <label>
          {t('incident.reason')}
          <textarea name="escalate-reason" required rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="submit">{t('incident.escalate')}</button>
      </form>,
    );
  if (works && open && lower.length > 0)
    forms.push(
      <form
        key="back"
        className="stack"
        onSubmit={submit('hand-back', { tier: backTo, reason: backReason }, () => setBackReason(''))}
      >
        <label>
          {t('incident.escalate.to')}
          <select value={backTo} onChange={(e) => setBackTo(e.target.value)}>
            {lower.map((x) => (
              <option key={x}>{x}</option>
            ))}
          </select>
        </label>
        <label>
          {t('incident.reason')}
          <textarea
            name="hand-back-reason"
            required
            rows={2}
            value={backReason}
            onChange={(e) => setBackReason(e.target.value)}
          />
        </label>
        <button type="submit">{t('incident.handBack')}</button>
      </form>,
    );
  if (works && open)
    forms.push(
      <form key="resolve" className="stack" onSubmit={submit('resolve', { resolution }, () => setResolution(''))}>
        <label>
          {t('incident.resolution')}
          <textarea name="resolution" required rows={2} value={resolution} onChange={(e) => setResolution(e.target.value)} />
        </label>
        <button type="submit">{t('incident.resolve')}</button>
      </form>,
    );
  if ((works || own) && i.status === 'resolved') {
    forms.push(<div key="close">{button('close', 'incident.close')}</div>);
    forms.push(
      <form key="reopen" className="stack" onSubmit={submit('reopen', { reason }, () => setReason(''))}>
        <label>
          {t('incident.reason')}
          <textarea name="reopen-reason" required rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <button type="submit">{t('incident.reopen')}</button>
      </form>,
    );
  }
  if (forms.length === 0) return null;
  return (
    <section className="actions">
      <h2>{t('incident.actions')}</h2>
      {forms}
      <ErrorMessage error={error} />
    </section>
  );
}

interface AttachmentItem {
  id: number;
  fileName: string;
  contentType: string;
  size: number;
  createdAt: string;
}

/** Files on the incident: names shown as text, each served by the API as a sandboxed download. */
function Attachments({ incidentId, canAdd }: { incidentId: number; canAdd: boolean }) {
  const { t } = useT();
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ['attachments', incidentId],
    queryFn: () => api<{ items: AttachmentItem[] }>('GET', `/incidents/${incidentId}/attachments`),
  });
  const upload = useMutation({
    mutationFn: (file: File) => uploadAttachment(incidentId, file),
    onSuccess: () => client.invalidateQueries({ queryKey: ['attachments', incidentId] }),
  });
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="attachments-title">
      <h2 id="attachments-title">{t('incident.attachments')}</h2>
      <ErrorMessage error={list.error} />
      {items.length === 0 ? (
        <p className="muted">{t('incident.noAttachments')}</p>
      ) : (
        <ul className="attachments" data-testid="attachments">
          {items.map((a) => (
            <li key={a.id}>
              <a href={`/api/v1/incidents/${incidentId}/attachments/${a.id}`} download={a.fileName}>
                {a.fileName}
              </a>{' '}
              <span className="muted">
                {a.contentType}, {formatSize(a.size)}, {formatDate(a.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {canAdd && (
        <label className="attach">
          {t('incident.attach')}{' '}
          <input
            type="file"
            data-testid="attach-file"
            disabled={upload.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) upload.mutate(file, { onSettled: () => (e.target.value = '') });
            }}
          />
        </label>
      )}
      <ErrorMessage error={upload.error} />
    </section>
  );
}

const formatSize = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
