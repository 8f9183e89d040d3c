import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type Locale, type VendorPortal } from '../api';
import { PriorityBadge } from '../components/Badges';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, I18nProvider, storedLocale, useT } from '../i18n';

const browserLocale = (): Locale => storedLocale() ?? (navigator.language.startsWith('fr') ? 'fr' : 'en');

/**
 * The page a vendor opens from the link in its message: no account, the signed token in the address
 * is the credential. In the vendor's language once known, switchable.
 */
export function VendorPortalPage({ token }: { token: string }) {
  const path = `/vendor-portal/${encodeURIComponent(token)}`;
  const portal = useQuery({
    queryKey: ['vendor-portal', token],
    queryFn: () => api<VendorPortal>('GET', path),
    retry: false,
  });
  const locale = portal.data?.vendor.locale ?? browserLocale();
  return (
    // Remounted once the vendor's own language is known.
    <I18nProvider key={locale} initial={locale}>
      <VendorShell>
        {portal.error ? (
          <LinkError error={portal.error} />
        ) : portal.data ? (
          <VendorIncident data={portal.data} path={path} queryKey={['vendor-portal', token]} />
        ) : (
          <VendorLoading />
        )}
      </VendorShell>
    </I18nProvider>
  );
}

function VendorLoading() {
  const { t } = useT();
  return <p>{t('common.loading')}</p>;
}

function VendorShell({ children }: { children: ReactNode }) {
  const { t, locale, setLocale } = useT();
  return (
    <>
      <header className="top">
        <span className="brand">{t('app.name')}</span>
        <div className="who">
          <label className="lang">
            <span className="sr-only">{t('nav.language')}</span>
            <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
              <option value="fr">FR</option>
              <option value="en">EN</option>
            </select>
          </label>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function LinkError({ error }: { error: unknown }) {
  const { t } = useT();
  // A forged, mistyped or unknown link: one message, without saying which.
  if (error instanceof ApiError && error.status === 404)
    return (
      <p role="alert" className="error">
        {t('vendor.invalid')}
      </p>
    );
  return <ErrorMessage error={error} />;
}

function VendorIncident({ data, path, queryKey }: { data: VendorPortal; path: string; queryKey: string[] }) {
  const { t, l } = useT();
  const client = useQueryClient();
  const i = data.incident;
  useEffect(() => {
    document.title = `Palier · #${i.id}`;
  }, [i.id]);

  /** Posts one answer; the page shows the incident as the answer left it. */
  const send = async (action: string, body: unknown) => {
    const next = await api<VendorPortal>('POST', `${path}/${action}`, body);
    client.setQueryData(queryKey, next);
  };

  return (
    <article aria-labelledby="vendor-title" className="stack">
      <p className="muted">{t('vendor.for', { vendor: data.vendor.name })}</p>
      <h1 id="vendor-title">
        {t('vendor.title', { id: i.id })} · <span data-testid="vendor-incident-title">{i.title}</span>
      </h1>
      <p className="meta">
        <PriorityBadge priority={i.priority} /> · {l(i.categoryName ?? undefined) || i.category}
      </p>
      <p className="prewrap" data-testid="description">
        {i.description}
      </p>
      <section className="card">
        <h2>{t('vendor.part')}</h2>
        <dl className="facts">
          <dt>{t('common.status')}</dt>
          <dd data-testid="vendor-status">{i.vendorStatus ? t(`vendor.status.${i.vendorStatus}`) : ''}</dd>
          <dt>{t('vendor.ticket')}</dt>
          <dd data-testid="vendor-ticket">{i.vendorTicket ?? t('vendor.noTicket')}</dd>
        </dl>
        {i.vendorStatus === 'engaged' && <AcknowledgeForm onSend={(ticket) => send('acknowledge', ticket ? { ticket } : {})} />}
        {i.vendorStatus === 'acknowledged' && (
          <>
            <UpdateForm onSend={(note, ticket) => send('updates', ticket ? { note, ticket } : { note })} />
            <DoneForm onSend={(note) => send('done', { note })} />
          </>
        )}
        {i.vendorStatus === 'done' && <p role="status">{t('vendor.finished')}</p>}
      </section>
      <section>
        <h2>{t('vendor.history')}</h2>
        <ol className="timeline" data-testid="vendor-timeline">
          {data.timeline.map((e) => (
            <li key={e.seq}>
              <time dateTime={e.at}>{formatDate(e.at)}</time> <strong>{t(`vendor.ev.${e.kind}`)}</strong>
              {e.ticket && <span className="muted"> · {t('vendor.ticketIs', { ticket: e.ticket })}</span>}
              {e.note && <p className="prewrap">{e.note}</p>}
            </li>
          ))}
        </ol>
      </section>
      <p className="muted">{t('vendor.expires', { when: formatDate(data.expiresAt) })}</p>
    </article>
  );
}

/** A form that keeps what was typed when sending fails. */
function useSubmit(run: () => Promise<void>, reset: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run();
      reset();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, onSubmit };
}

function AcknowledgeForm({ onSend }: { onSend(ticket: string): Promise<void> }) {
  const { t } = useT();
  const [ticket, setTicket] = useState('');
  const { error, busy, onSubmit } = useSubmit(
    () => onSend(ticket.trim()),
    () => setTicket(''),
  );
  return (
    <form className="stack" onSubmit={onSubmit} aria-label={t('vendor.acknowledge')}>
      <label>
        {t('vendor.ticket')}
        <input name="ticket" maxLength={200} value={ticket} onChange={(e) => setTicket(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {t('vendor.acknowledge')}
      </button>
    </form>
  );
}

function UpdateForm({ onSend }: { onSend(note: string, ticket: string): Promise<void> }) {
  const { t } = useT();
  const [note, setNote] = useState('');
  const [ticket, setTicket] = useState('');
  const { error, busy, onSubmit } = useSubmit(
    () => onSend(note, ticket.trim()),
    () => {
      setNote('');
      setTicket('');
    },
  );
  return (
    <form className="stack" onSubmit={onSubmit} aria-label={t('vendor.update')}>
      <h3>{t('vendor.update')}</h3>
      <label>
        {t('vendor.note')}
        <textarea name="note" required rows={3} maxLength={10000} value={note} onChange={(e) => setNote(e.target.value)} />
      </label>
      <label>
        {t('vendor.ticket')}
        <input name="ticket" maxLength={200} value={ticket} onChange={(e) => setTicket(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {t('vendor.send')}
      </button>
    </form>
  );
}

function DoneForm({ onSend }: { onSend(note: string): Promise<void> }) {
  const { t } = useT();
  const [note, setNote] = useState('');
  const { error, busy, onSubmit } = useSubmit(
    () => onSend(note),
    () => setNote(''),
  );
  return (
    <form className="stack" onSubmit={onSubmit} aria-label={t('vendor.done')}>
      <h3>{t('vendor.done')}</h3>
      <label>
        {t('vendor.doneNote')}
        <textarea name="done-note" required rows={3} maxLength={10000} value={note} onChange={(e) => setNote(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {t('vendor.done')}
      </button>
    </form>
  );
}
