import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Role, type User } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT } from '../i18n';
import { useSession } from '../session';

const ROLES: Role[] = ['requester', 'agent', 'manager', 'admin'];

export function UsersPage() {
  const { t } = useT();
  const { user } = useSession();
  const client = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api<{ items: User[] }>('GET', '/users?limit=500') });
  const [form, setForm] = useState({ email: '', displayName: '', role: 'requester' as Role, tiers: '', password: '' });
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      <ErrorMessage error={users.error} />
      <div className="grid-wrap">
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t('users.name')}</th>
              <th scope="col">{t('users.email')}</th>
              <th scope="col">{t('users.role')}</th>
              <th scope="col">{t('common.tier')}</th>
              <th scope="col">{t('nav.language')}</th>
              <th scope="col">—</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <tr key={u.id}>
                <td>{u.displayName}</td>
                <td>{u.email}</td>
                <td>{t(`role.${u.role}`)}</td>
                <td>{u.tiers.join(', ')}</td>
                <td>{u.locale}</td>
                <td>{u.disabled ? t('users.disabled') : formatDate(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {user?.role === 'admin' && (
        <form
          className="stack card wide"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            try {
              const tiers = form.tiers
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean);
              await api('POST', '/users', {
                email: form.email,
                role: form.role,
                ...(form.displayName ? { displayName: form.displayName } : {}),
                ...(form.password ? { password: form.password } : {}),
                ...(tiers.length ? { tiers } : {}),
              });
              setCreated(form.email);
              setForm({ email: '', displayName: '', role: 'requester', tiers: '', password: '' });
              await client.invalidateQueries({ queryKey: ['users'] });
            } catch (err) {
              setError(err);
            }
          }}
        >
          <h2>{t('users.add')}</h2>
          <label>
            {t('users.email')}
            <input type="email" required value={form.email} onChange={set('email')} />
          </label>
          <label>
            {t('users.name')}
            <input value={form.displayName} onChange={set('displayName')} />
          </label>
          <label>
            {t('users.role')}
            <select value={form.role} onChange={set('role')}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('users.tiers')}
            <input value={form.tiers} onChange={set('tiers')} />
          </label>
          <label>
            {t('users.password')}
            <input type="password" autoComplete="new-password" value={form.password} onChange={set('password')} />
          </label>
          <ErrorMessage error={error} />
          {created && <p role="status">{t('users.created', { email: created })}</p>}
          <button type="submit">{t('users.create')}</button>
        </form>
      )}
    </section>
  );
}
