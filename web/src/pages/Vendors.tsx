import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatIsoDuration, useT } from '../i18n';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

interface Vendor {
  id: number;
  name: string;
  categories: string[];
  email: string;
  phone: string | null;
  locale: 'fr' | 'en';
  contractRef: string | null;
  acknowledge: string | null;
  resolve: string | null;
  active: boolean;
}

const EMPTY = { name: '', email: '', phone: '', contractRef: '', acknowledge: '', resolve: '', locale: 'fr' as 'fr' | 'en' };

/** The vendor directory (level X): staff read it, administrators add vendors and retire them. */
export function VendorsPage() {
  const { t, l, locale } = useT();
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const client = useQueryClient();
  const matrix = useMatrix();
  const vendors = useQuery({ queryKey: ['vendors', 'all'], queryFn: () => api<{ items: Vendor[] }>('GET', '/vendors') });
  const [form, setForm] = useState(EMPTY);
  const [categories, setCategories] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const set = (key: keyof typeof EMPTY) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const categoryName = (key: string) => l(matrix.data?.categories.find((c) => c.key === key)?.name) || key;
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
                <td>{v.name}</td>
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
        <form
          className="stack card wide"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              await api('POST', '/vendors', {
                name: form.name,
                email: form.email,
                categories,
                locale: form.locale,
                ...(form.phone ? { phone: form.phone } : {}),
                ...(form.contractRef ? { contractRef: form.contractRef } : {}),
                ...(form.acknowledge ? { acknowledge: form.acknowledge } : {}),
                ...(form.resolve ? { resolve: form.resolve } : {}),
              });
              setCreated(form.name);
              setForm(EMPTY);
              setCategories([]);
              await refresh();
            } catch (err) {
              setError(err); // what was typed stays
            }
          }}
        >
          <h2>{t('vendors.add')}</h2>
          <label>
            {t('vendors.name')}
            <input name="name" required maxLength={200} value={form.name} onChange={set('name')} />
          </label>
          <fieldset>
            <legend>{t('vendors.categories')}</legend>
            {matrix.data?.categories.map((c) => (
              <label key={c.key} className="radio">
                <input
                  type="checkbox"
                  checked={categories.includes(c.key)}
                  onChange={(e) =>
                    setCategories(e.target.checked ? [...categories, c.key] : categories.filter((x) => x !== c.key))
                  }
                />{' '}
                {l(c.name)}
              </label>
            ))}
          </fieldset>
          <label>
            {t('vendors.email')}
            <input name="email" type="email" required value={form.email} onChange={set('email')} />
          </label>
          <label>
            {t('vendors.phone')}
            <input name="phone" type="tel" value={form.phone} onChange={set('phone')} />
          </label>
          <label>
            {t('nav.language')}
            <select name="locale" value={form.locale} onChange={set('locale')}>
              <option value="fr">Français</option>
              <option value="en">English</option>
            </select>
          </label>
          <label>
            {t('vendors.contract')}
            <input name="contractRef" maxLength={200} value={form.contractRef} onChange={set('contractRef')} />
          </label>
          <label>
            {t('vendors.acknowledge')}
            <input name="acknowledge" placeholder="PT4H" value={form.acknowledge} onChange={set('acknowledge')} />
          </label>
          <label>
            {t('vendors.resolve')}
            <input name="resolve" placeholder="P1D" value={form.resolve} onChange={set('resolve')} />
          </label>
          <ErrorMessage error={error} />
          {created && <p role="status">{t('vendors.created', { name: created })}</p>}
          <button type="submit">{t('vendors.create')}</button>
        </form>
      )}
    </section>
  );
}
