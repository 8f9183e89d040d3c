import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { bodyOf, NO_VENDOR, VendorForm, type Vendor } from '../components/VendorForm';
import { formatIsoDuration, useT } from '../i18n';
import { useCategoryName } from '../matrix';
import { useSession } from '../session';

/** The vendor directory (level X): staff read it, administrators add vendors and retire them; each name opens its page. */
export function VendorsPage() {
  const { t, locale } = useT();
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const client = useQueryClient();
  const vendors = useQuery({ queryKey: ['vendors', 'all'], queryFn: () => api<{ items: Vendor[] }>('GET', '/vendors') });
  const [added, setAdded] = useState(0);
  const [listError, setListError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const categoryName = useCategoryName();
  const refresh = () => client.invalidateQueries({ queryKey: ['vendors'] });

  return (
    <section aria-labelledby="vendors-title">
      <h1 id="vendors-title">{t('vendors.title')}</h1>
      <ErrorMessage error={vendors.error ?? listError} />
      <div className="grid-wrap">
        <table className="list" data-testid="vendors">
          <thead>
            <tr>
              <th scope="col">{t('vendors.name')}</th>
              <th scope="col">{t('vendors.categories')}</th>
              <th scope="col">{t('vendors.contact')}</th>
              <th scope="col">{t('vendors.contract')}</th>
              <th scope="col">{t('vendors.targets')}</th>
              <th scope="col">{t('common.status')}</th>
            </tr>
          </thead>
          <tbody>
            {vendors.data?.items.map((v) => (
              <tr key={v.id}>
                <td>
                  <Link to={`/vendors/${v.id}`}>{v.name}</Link>
                </td>
                <td>{v.categories.map(categoryName).join(', ')}</td>
                <td>
                  {v.email}
                  {v.phone && <br />}
                  {v.phone}
                </td>
                <td>{v.contractRef ?? '—'}</td>
                <td>
                  {v.acknowledge ? formatIsoDuration(v.acknowledge, locale) : '—'} /{' '}
                  {v.resolve ? formatIsoDuration(v.resolve, locale) : '—'}
                </td>
                <td>
                  {v.active ? t('vendors.active') : t('vendors.inactive')}
                  {admin && (
                    <>
                      {' '}
                      <button
                        type="button"
                        className="link"
                        onClick={async () => {
                          setListError(null);
                          try {
                            await api('PATCH', `/vendors/${v.id}`, { active: !v.active });
                            await refresh();
                          } catch (err) {
                            setListError(err);
                          }
                        }}
                      >
                        {v.active ? t('vendors.retire') : t('vendors.reactivate')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (
        <>
          <VendorForm
            key={added}
            title={t('vendors.add')}
            submitLabel={t('vendors.create')}
            initial={NO_VENDOR}
            onSubmit={async (values) => {
              await api('POST', '/vendors', bodyOf(values));
              setCreated(values.name);
              setAdded(added + 1); // a fresh, empty form
              await refresh();
            }}
          />
          {created && <p role="status">{t('vendors.created', { name: created })}</p>}
        </>
      )}
    </section>
  );
}
