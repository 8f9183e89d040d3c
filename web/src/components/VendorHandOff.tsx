import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type IncidentDetail } from '../api';
import { useT } from '../i18n';
import { ErrorMessage } from './ErrorMessage';

interface VendorSummary {
  id: number;
  name: string;
  contractRef: string | null;
  acknowledge: string | null;
  resolve: string | null;
}

/**
 * Level X on the incident page: where the vendor's part stands, and for staff working the incident,
 * handing it to an active vendor that covers its category.
 */
export function VendorHandOff({
  detail: i,
  works,
  staff,
  run,
}: {
  detail: IncidentDetail;
  works: boolean;
  staff: boolean;
  run(path: string, body?: unknown): Promise<unknown>;
}) {
  const { t } = useT();
  const canHand = works && (i.status === 'acknowledged' || i.status === 'in_progress');
  const vendors = useQuery({
    queryKey: ['vendors', i.category],
    queryFn: () => api<{ items: VendorSummary[] }>('GET', `/vendors?active=true&category=${encodeURIComponent(i.category)}`),
    enabled: staff && canHand,
    staleTime: 60_000,
  });
  const engaged = useQuery({
    queryKey: ['vendor', i.vendorId],
    queryFn: () => api<VendorSummary>('GET', `/vendors/${i.vendorId}`),
    enabled: staff && i.vendorId !== null,
    staleTime: 60_000,
  });
  const [vendorId, setVendorId] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (!canHand && i.vendorId === null) return null;
  const choices = vendors.data?.items ?? [];

  return (
    <section className="actions" aria-labelledby="vendor-part">
      <h2 id="vendor-part">{t('vendorPart.title')}</h2>
      {i.vendorId !== null && i.vendorStatus && (
        <dl className="facts" data-testid="vendor-part">
          <dt>{t('vendorPart.vendor')}</dt>
          <dd>{engaged.data?.name ?? `#${i.vendorId}`}</dd>
          <dt>{t('common.status')}</dt>
          <dd>{t(`vendorPart.status.${i.vendorStatus}`)}</dd>
          <dt>{t('vendorPart.ticket')}</dt>
          <dd>{i.vendorTicket ?? '—'}</dd>
        </dl>
      )}
      {canHand &&
        (vendors.isSuccess && choices.length === 0 ? (
          <p className="muted">{t('vendorPart.none')}</p>
        ) : (
          <form
            className="stack"
            onSubmit={async (e) => {
              e.preventDefault();
              setError(null);
              try {
                await run('engage-vendor', { vendorId: Number(vendorId || choices[0]?.id), note });
                setNote('');
              } catch (err) {
                setError(err);
              }
            }}
          >
            <label>
              {t('vendorPart.vendor')}
              <select
                name="vendor"
                value={vendorId || String(choices[0]?.id ?? '')}
                onChange={(e) => setVendorId(e.target.value)}
              >
                {choices.map((v) => (
                  <option key={v.id} value={v.id}>
                    {v.name}
                    {v.contractRef ? ` (${v.contractRef})` : ''}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('vendorPart.note')}
              <textarea name="vendor-note" rows={2} maxLength={10000} value={note} onChange={(e) => setNote(e.target.value)} />
            </label>
            <ErrorMessage error={error} />
            <button type="submit" disabled={choices.length === 0}>
              {t('vendorPart.handTo')}
            </button>
          </form>
        ))}
    </section>
  );
}
