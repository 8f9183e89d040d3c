import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { bodyOf, valuesOf, VendorForm, type Vendor } from '../components/VendorForm';
import { formatDate, formatIsoDuration, useT } from '../i18n';
import { useCategoryName } from '../matrix';
import { useSession } from '../session';

interface VendorDetail extends Vendor {
  /** Incidents in the vendor's hands now; null for those who do not read reports. */
  openEngagements: number | null;
}

/** One vendor: its contacts and contract, for staff; administrators change its details here. */
export function VendorPage() {
  const { t, locale } = useT();
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const id = Number(useParams().id);
  const client = useQueryClient();
  const categoryName = useCategoryName();
  // An address that names no vendor is answered like an unknown one, without asking the API.
  const query = useQuery({
    queryKey: ['vendors', id],
    queryFn: () =>
      Number.isInteger(id) && id > 0
        ? api<VendorDetail>('GET', `/vendors/${id}`)
        : Promise.reject(new ApiError(404, 'not_found', 'not found')),
    retry: false,
  });
  /** The updatedAt the edit is made on: a change saved by someone else since is refused, not overwritten. */
  const [editingFrom, setEditingFrom] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const v = query.data;
  const target = (text: string | null) => (text ? formatIsoDuration(text, locale) : '—');

  return (
    <section aria-labelledby="vendor-title" className="stack">
      <p>
        <Link to="/vendors">{t('vendors.back')}</Link>
      </p>
      <ErrorMessage error={query.error} />
      {v && (
        <>
          <h1 id="vendor-title" data-testid="vendor-name">
            {v.name}
          </h1>
          <dl className="facts" data-testid="vendor-details">
            <dt>{t('common.status')}</dt>
            <dd>{v.active ? t('vendors.active') : t('vendors.inactive')}</dd>
            <dt>{t('vendors.categories')}</dt>
            <dd>{v.categories.map(categoryName).join(', ') || '—'}</dd>
            <dt>{t('vendors.email')}</dt>
            <dd>
              <a href={`mailto:${v.email}`}>{v.email}</a>
            </dd>
            <dt>{t('vendors.phone')}</dt>
            <dd>{v.phone ? <a href={`tel:${v.phone.replace(/[^0-9+]/g, '')}`}>{v.phone}</a> : '—'}</dd>
            <dt>{t('vendors.language')}</dt>
            <dd>{v.locale === 'fr' ? 'Français' : 'English'}</dd>
            <dt>{t('vendors.contract')}</dt>
            <dd>{v.contractRef ?? '—'}</dd>
            <dt>{t('vendors.ackTarget')}</dt>
            <dd>{target(v.acknowledge)}</dd>
            <dt>{t('vendors.resolveTarget')}</dt>
            <dd>{target(v.resolve)}</dd>
            {v.openEngagements !== null && (
              <>
                <dt>{t('vendors.openEngagements')}</dt>
                <dd data-testid="vendor-open">{v.openEngagements}</dd>
              </>
            )}
            <dt>{t('vendors.added')}</dt>
            <dd>{formatDate(v.createdAt)}</dd>
            <dt>{t('vendors.updated')}</dt>
            <dd>{formatDate(v.updatedAt)}</dd>
          </dl>
          {saved && <p role="status">{t('vendors.saved', { name: saved })}</p>}
          {admin && editingFrom === null && (
            <div className="row">
              <button
                type="button"
                onClick={() => {
                  setSaved(null);
                  setEditingFrom(v.updatedAt);
                }}
              >
                {t('vendors.edit')}
              </button>
            </div>
          )}
          {admin && editingFrom !== null && (
            <VendorForm
              title={t('vendors.editTitle')}
              submitLabel={t('common.save')}
              initial={valuesOf(v)}
              onSubmit={async (values) => {
                try {
                  const after = await api<Vendor>('PATCH', `/vendors/${id}`, { ...bodyOf(values), updatedAt: editingFrom });
                  setEditingFrom(null);
                  setSaved(after.name);
                  await client.invalidateQueries({ queryKey: ['vendors'] });
                } catch (error) {
                  // Someone else's change: shown above, and the next save is made on it.
                  if (error instanceof ApiError && error.code === 'vendor_changed') {
                    const fresh = await query.refetch();
                    if (fresh.data) setEditingFrom(fresh.data.updatedAt);
                  }
                  throw error;
                }
              }}
            >
              <button type="button" className="secondary" onClick={() => setEditingFrom(null)}>
                {t('common.cancel')}
              </button>
            </VendorForm>
          )}
        </>
      )}
    </section>
  );
}
