import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, type Locale } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT, type TKey } from '../i18n';
import { useMatrix } from '../matrix';

const KINDS = ['webhook', 'slack', 'teams', 'email'] as const;
type Kind = (typeof KINDS)[number];
/** The event kinds the server notifies (NOTIFIED_EVENTS), in the order people think of them. */
const EVENTS = [
  'created',
  'acknowledged',
  'escalated',
  'handed_back',
  'resolved',
  'reopened',
  'deadline_warning',
  'deadline_missed',
  'manager_notified',
  'ping_pong_detected',
  'vendor_engaged',
  'vendor_acknowledged',
  'vendor_updated',
  'vendor_done',
] as const;
const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'dropped'] as const;
/** Deliveries per page of the log. */
const PAGE = 50;
type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

interface Channel {
  id: number;
  name: string;
  kind: Kind;
  target: string;
  events: string[];
  categories: string[] | null;
  tiers: string[] | null;
  locale: Locale;
  enabled: boolean;
  signed: boolean;
  createdAt: string;
}

interface Delivery {
  id: number;
  incidentId: number | null;
  channelId: number | null;
  kind: Kind;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  sentAt: string | null;
  createdAt: string;
}

/** What the channel form edits; the kind is chosen at creation only. */
interface Draft {
  kind: Kind;
  name: string;
  target: string;
  events: string[];
  categories: string[];
  tiers: string[];
  locale: Locale;
}

const EMPTY: Draft = {
  kind: 'webhook',
  name: '',
  target: '',
  events: ['created', 'escalated'],
  categories: [],
  tiers: [],
  locale: 'fr',
};
const draftOf = (c: Channel): Draft => ({
  kind: c.kind,
  name: c.name,
  target: c.target,
  events: c.events,
  categories: c.categories ?? [],
  tiers: c.tiers ?? [],
  locale: c.locale,
});
/** The API's body for a draft: empty category and tier lists mean every one. */
const bodyOf = (d: Draft) => ({
  name: d.name,
  target: d.target,
  events: d.events,
  categories: d.categories.length ? d.categories : null,
  tiers: d.tiers.length ? d.tiers : null,
  locale: d.locale,
});

/** Outbound notifications (administrators): channels with their rules, and the log of deliveries. */
export function NotificationsPage() {
  const { t } = useT();
  const client = useQueryClient();
  const channels = useQuery({
    queryKey: ['notification-channels'],
    queryFn: () => api<{ items: Channel[] }>('GET', '/notification-channels'),
  });
  const [adding, setAdding] = useState<Draft>(EMPTY);
  const [addError, setAddError] = useState<unknown>(null);
  const [editing, setEditing] = useState<{ id: number; draft: Draft } | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [editError, setEditError] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // A signing secret is in one API answer only: it stays on screen until the admin dismisses it.
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['notification-channels'] });

  /** Runs a change, shows its outcome (an error where it was asked for), and reloads the channels. */
  const act = async (work: () => Promise<unknown>, message: string, showError = setListError) => {
    setListError(null);
    setEditError(null);
    setDone(null);
    try {
      await work();
      setDone(message);
      await refresh();
      return true;
    } catch (err) {
      showError(err);
      return false;
    }
  };
  const rotate = (c: Channel) =>
    act(
      async () => {
        const res = await api<{ secret: string }>('POST', `/notification-channels/${c.id}/rotate-secret`);
        setSecret({ name: c.name, value: res.secret });
      },
      t('notifications.rotated', { name: c.name }),
    );

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setAddError(null);
    setDone(null);
    try {
      const res = await api<Channel & { secret: string | null }>('POST', '/notification-channels', {
        kind: adding.kind,
        ...bodyOf(adding),
      });
      if (res.secret) setSecret({ name: res.name, value: res.secret });
      setDone(t('notifications.created', { name: res.name }));
      setAdding(EMPTY);
      await refresh();
    } catch (err) {
      setAddError(err); // what was typed stays
    }
  };

  return (
    <section className="notifications" aria-labelledby="notifications-title">
      <h1 id="notifications-title">{t('notifications.title')}</h1>
      <p className="muted">{t('notifications.intro')}</p>
      {secret && <SecretNotice name={secret.name} value={secret.value} onDismiss={() => setSecret(null)} />}

      <h2 id="channels-title">{t('notifications.channels')}</h2>
      <ErrorMessage error={channels.error ?? listError} />
      {done && <p role="status">{done}</p>}
      <div className="grid-wrap">
        <table className="list" data-testid="channels" aria-labelledby="channels-title">
          <thead>
            <tr>
              <th scope="col">{t('notifications.name')}</th>
              <th scope="col">{t('notifications.kind')}</th>
              <th scope="col">{t('notifications.target')}</th>
              <th scope="col">{t('notifications.events')}</th>
              <th scope="col">{t('notifications.scope')}</th>
              <th scope="col">{t('nav.language')}</th>
              <th scope="col">{t('common.status')}</th>
              <th scope="col">{t('notifications.signed')}</th>
              <th scope="col">{t('notifications.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {channels.data?.items.length === 0 && (
              <tr>
                <td colSpan={9}>{t('notifications.noChannels')}</td>
              </tr>
            )}
            {channels.data?.items.map((c) => (
              <Fragment key={c.id}>
                <tr data-testid={`channel-${c.id}`}>
                  <td>{c.name}</td>
                  <td>{t(`notifications.kind.${c.kind}`)}</td>
                  <td className="break">{c.target}</td>
                  <td>{c.events.map((ev) => t(`notifications.event.${ev}` as TKey)).join(', ')}</td>
                  <td>
                    <Scope channel={c} />
                  </td>
                  <td>{c.locale === 'fr' ? 'Français' : 'English'}</td>
                  <td>{c.enabled ? t('notifications.enabled') : t('notifications.disabled')}</td>
                  <td>{c.kind !== 'webhook' ? '—' : c.signed ? t('notifications.yes') : t('notifications.no')}</td>
                  <td className="actions-cell">
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setEditError(null);
                        setEditing({ id: c.id, draft: draftOf(c) });
                      }}
                    >
                      {t('notifications.edit', { name: c.name })}
                    </button>{' '}
                    <button
                      type="button"
                      className="link"
                      onClick={() =>
                        act(
                          () => api('PATCH', `/notification-channels/${c.id}`, { enabled: !c.enabled }),
                          t(c.enabled ? 'notifications.disabledDone' : 'notifications.enabledDone', { name: c.name }),
                        )
                      }
                    >
                      {c.enabled ? t('notifications.disable') : t('notifications.enable')}
                    </button>{' '}
                    {c.kind === 'webhook' && (
                      <>
                        <button type="button" className="link" onClick={() => rotate(c)}>
                          {t('notifications.rotate')}
                        </button>{' '}
                      </>
                    )}
                    {confirmDelete === c.id ? (
                      <span role="group" aria-label={t('notifications.confirmDelete', { name: c.name })}>
                        {t('notifications.confirmDelete', { name: c.name })}{' '}
                        <button
                          type="button"
                          className="link"
                          onClick={async () => {
                            setConfirmDelete(null);
                            await act(
                              () => api('DELETE', `/notification-channels/${c.id}`),
                              t('notifications.deleted', { name: c.name }),
                            );
                          }}
                        >
                          {t('notifications.deleteYes')}
                        </button>{' '}
                        <button type="button" className="link" onClick={() => setConfirmDelete(null)}>
                          {t('common.cancel')}
                        </button>
                      </span>
                    ) : (
                      <button type="button" className="link" onClick={() => setConfirmDelete(c.id)}>
                        {t('notifications.delete')}
                      </button>
                    )}
                  </td>
                </tr>
                {editing?.id === c.id && (
                  <tr>
                    <td colSpan={9}>
                      <ChannelForm
                        title={t('notifications.editTitle', { name: c.name })}
                        draft={editing.draft}
                        onChange={(draft) => setEditing({ id: c.id, draft })}
                        submit={t('common.save')}
                        error={editError}
                        onCancel={() => setEditing(null)}
                        onSubmit={async (e) => {
                          e.preventDefault();
                          const saved = await act(
                            () => api('PATCH', `/notification-channels/${c.id}`, bodyOf(editing.draft)),
                            t('notifications.saved', { name: editing.draft.name }),
                            setEditError,
                          );
                          if (saved) setEditing(null);
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>

      <ChannelForm
        title={t('notifications.add')}
        draft={adding}
        onChange={setAdding}
        submit={t('notifications.create')}
        creating
        error={addError}
        onSubmit={add}
      />

      <DeliveryLog channels={channels.data?.items ?? []} />
    </section>
  );
}

/** The new signing secret, with what the admin must do with it before it is gone. */
function SecretNotice({ name, value, onDismiss }: { name: string; value: string; onDismiss: () => void }) {
  const { t } = useT();
  const [copied, setCopied] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  // Rotating from a row far down the list must still bring the secret before the admin's eyes.
  useEffect(() => {
    box.current?.focus();
    box.current?.scrollIntoView({ block: 'nearest' });
  }, [value]);
  return (
    <div ref={box} tabIndex={-1} className="card secret" role="region" aria-label={t('notifications.secretTitle')}>
      <h2>{t('notifications.secretTitle')}</h2>
      <p>
        <strong>{t('notifications.secretOnce', { name })}</strong>
      </p>
      <p>
        <code data-testid="secret">{value}</code>
      </p>
      <p className="muted">{t('notifications.secretHelp')}</p>
      <div className="row">
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(value);
              setCopied(true);
            } catch {
              setCopied(false); // no clipboard permission: the secret is still there to select
            }
          }}
        >
          {copied ? t('notifications.copied') : t('notifications.copy')}
        </button>
        <button type="button" onClick={onDismiss}>
          {t('notifications.secretDone')}
        </button>
      </div>
    </div>
  );
}

function Scope({ channel }: { channel: Channel }) {
  const { t, l } = useT();
  const matrix = useMatrix();
  const category = (key: string) => l(matrix.data?.categories.find((c) => c.key === key)?.name) || key;
  return (
    <>
      {channel.categories ? channel.categories.map(category).join(', ') : t('notifications.allCategories')}
      <br />
      {channel.tiers ? channel.tiers.join(', ') : t('notifications.allTiers')}
    </>
  );
}

/** A group of checkboxes over a list of keys. */
function Checks({
  legend,
  options,
  chosen,
  onChange,
  hint,
}: {
  legend: string;
  options: Array<{ key: string; label: string }>;
  chosen: string[];
  onChange: (next: string[]) => void;
  hint?: string;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {hint && <p className="muted">{hint}</p>}
      {options.map((o) => (
        <label key={o.key} className="radio">
          <input
            type="checkbox"
            value={o.key}
            checked={chosen.includes(o.key)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, o.key] : chosen.filter((x) => x !== o.key))}
          />{' '}
          {o.label}
        </label>
      ))}
    </fieldset>
  );
}

/** Adds a channel (kind chosen here) or changes one (its kind stays). */
function ChannelForm({
  title,
  draft,
  onChange,
  submit,
  error,
  onSubmit,
  onCancel,
  creating = false,
}: {
  title: string;
  draft: Draft;
  onChange: (d: Draft) => void;
  submit: string;
  error?: unknown;
  onSubmit: (e: FormEvent) => void;
  onCancel?: () => void;
  /** The kind is chosen when adding; a channel keeps its kind. */
  creating?: boolean;
}) {
  const { t, l } = useT();
  const matrix = useMatrix();
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => onChange({ ...draft, [key]: value });
  const email = draft.kind === 'email';
  return (
    <form className="stack card wide" aria-label={title} onSubmit={onSubmit}>
      <h2>{title}</h2>
      {creating && (
        <label>
          {t('notifications.kind')}
          <select name="kind" value={draft.kind} onChange={(e) => set('kind', e.target.value as Kind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`notifications.kind.${k}`)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {t('notifications.name')}
        <input name="name" required maxLength={200} value={draft.name} onChange={(e) => set('name', e.target.value)} />
      </label>
      <label>
        {email ? t('notifications.addresses') : t('notifications.url')}
        <input
          name="target"
          required
          maxLength={4000}
          type={email ? 'text' : 'url'}
          placeholder={email ? 'ops@example.org, n2@example.org' : 'https://'}
          value={draft.target}
          onChange={(e) => set('target', e.target.value)}
        />
      </label>
      <Checks
        legend={t('notifications.events')}
        options={EVENTS.map((ev) => ({ key: ev, label: t(`notifications.event.${ev}`) }))}
        chosen={draft.events}
        onChange={(events) => set('events', events)}
      />
      <Checks
        legend={t('notifications.categories')}
        hint={t('notifications.noneMeansAll')}
        options={(matrix.data?.categories ?? []).map((c) => ({ key: c.key, label: l(c.name) }))}
        chosen={draft.categories}
        onChange={(categories) => set('categories', categories)}
      />
      <Checks
        legend={t('notifications.tiers')}
        hint={t('notifications.noneMeansAll')}
        options={(matrix.data?.tiers ?? []).map((tier) => ({ key: tier.key, label: `${tier.key} — ${l(tier.name)}` }))}
        chosen={draft.tiers}
        onChange={(tiers) => set('tiers', tiers)}
      />
      <label>
        {t('notifications.locale')}
        <select name="locale" value={draft.locale} onChange={(e) => set('locale', e.target.value as Locale)}>
          <option value="fr">Français</option>
          <option value="en">English</option>
        </select>
      </label>
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" disabled={draft.events.length === 0}>
          {submit}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
      </div>
      {draft.events.length === 0 && <p className="muted">{t('notifications.pickEvent')}</p>}
    </form>
  );
}

/** The record of what was sent or is to be sent, newest first, with a retry for what did not go. */
function DeliveryLog({ channels }: { channels: Channel[] }) {
  const { t } = useT();
  const client = useQueryClient();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [channel, setChannel] = useState('');
  const [incident, setIncident] = useState('');
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [retried, setRetried] = useState<number | null>(null);
  const incidentId = /^\d+$/.test(incident.trim()) ? incident.trim() : '';
  const query = new URLSearchParams({
    limit: String(PAGE),
    offset: String(offset),
    ...(status ? { status } : {}),
    ...(channel ? { channel } : {}),
    ...(incidentId ? { incident: incidentId } : {}),
  });
  /** A new filter starts again from the newest deliveries. */
  const filter =
    <V,>(set: (v: V) => void) =>
    (v: V) => {
      set(v);
      setOffset(0);
    };
  const deliveries = useQuery({
    queryKey: ['deliveries', query.toString()],
    queryFn: () => api<{ items: Delivery[] }>('GET', `/deliveries?${query.toString()}`),
    refetchInterval: 15_000,
  });
  const channelOf = (d: Delivery) => channels.find((c) => c.id === d.channelId);
  const channelName = (d: Delivery) => {
    if (d.channelId === null) return t('notifications.people');
    return channelOf(d)?.name ?? t('notifications.deletedChannel', { id: d.channelId });
  };
  // A channel's delivery names the channel ("channel:7"): its address says more to the reader.
  const recipient = (d: Delivery) => (d.channelId === null ? d.recipient : (channelOf(d)?.target ?? d.recipient));

  return (
    <>
      <h2 id="deliveries-title">{t('notifications.deliveries')}</h2>
      <div className="filters row">
        <label>
          {t('common.status')}
          <select name="status" value={status} onChange={(e) => filter(setStatus)(e.target.value as DeliveryStatus | '')}>
            <option value="">{t('common.all')}</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`notifications.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('notifications.channel')}
          <select name="channel" value={channel} onChange={(e) => filter(setChannel)(e.target.value)}>
            <option value="">{t('common.all')}</option>
            {channels.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('notifications.incidentNumber')}
          <input
            name="incident"
            inputMode="numeric"
            size={8}
            value={incident}
            onChange={(e) => filter(setIncident)(e.target.value)}
          />
        </label>
        <button type="button" className="secondary" onClick={() => deliveries.refetch()}>
          {t('notifications.refresh')}
        </button>
      </div>
      <ErrorMessage error={deliveries.error ?? error} />
      {retried && <p role="status">{t('notifications.retried', { id: retried })}</p>}
      <div className="grid-wrap">
        <table className="list" data-testid="deliveries" aria-labelledby="deliveries-title">
          <thead>
            <tr>
              <th scope="col">{t('notifications.time')}</th>
              <th scope="col">{t('notifications.incident')}</th>
              <th scope="col">{t('notifications.channel')}</th>
              <th scope="col">{t('notifications.recipient')}</th>
              <th scope="col">{t('common.status')}</th>
              <th scope="col">{t('notifications.attempts')}</th>
              <th scope="col">{t('notifications.lastError')}</th>
              <th scope="col">{t('notifications.nextAttempt')}</th>
              <th scope="col">{t('notifications.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data?.items.length === 0 && (
              <tr>
                <td colSpan={9}>{t('notifications.noDeliveries')}</td>
              </tr>
            )}
            {deliveries.data?.items.map((d) => (
              <tr key={d.id} data-testid={`delivery-${d.id}`}>
                <td>{formatDate(d.createdAt)}</td>
                <td>{d.incidentId === null ? '—' : <Link to={`/incidents/${d.incidentId}`}>#{d.incidentId}</Link>}</td>
                <td>{channelName(d)}</td>
                <td className="break">{recipient(d)}</td>
                <td data-testid="delivery-status">{t(`notifications.status.${d.status}`)}</td>
                <td>{d.attempts}</td>
                <td className="break">{d.lastError ?? ''}</td>
                <td>{formatDate(d.nextAttemptAt)}</td>
                <td>
                  {(d.status === 'failed' || d.status === 'dropped') && (
                    <button
                      type="button"
                      className="link"
                      onClick={async () => {
                        setError(null);
                        setRetried(null);
                        try {
                          await api('POST', `/deliveries/${d.id}/retry`);
                          setRetried(d.id);
                          await client.invalidateQueries({ queryKey: ['deliveries'] });
                        } catch (err) {
                          setError(err);
                        }
                      }}
                    >
                      {t('notifications.retry')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          {t('notifications.newer')}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={(deliveries.data?.items.length ?? 0) < PAGE}
          onClick={() => setOffset(offset + PAGE)}
        >
          {t('notifications.older')}
        </button>
      </div>
    </>
  );
}
