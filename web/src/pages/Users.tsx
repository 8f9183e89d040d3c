import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { api, type Locale, type Role, type User } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT } from '../i18n';
import { useSession } from '../session';

const ROLES: Role[] = ['requester', 'agent', 'manager', 'admin'];

export function UsersPage() {
  const { t } = useT();
  const { user } = useSession();
  const client = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api<{ items: User[] }>('GET', '/users?limit=500') });
  // With role sync on, a role set here lasts until the person's next single sign-on.
  const sso = useQuery({
    queryKey: ['sso'],
    queryFn: () => api<{ enabled: boolean; roleSync: boolean }>('GET', '/auth/oidc'),
    staleTime: Infinity,
  });
  const [form, setForm] = useState({ email: '', displayName: '', role: 'requester' as Role, tiers: '', password: '' });
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const admin = user?.role === 'admin';
  const [editing, setEditing] = useState<number | null>(null);
  const [changeError, setChangeError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const change = async (target: User, body: Partial<Pick<User, 'role' | 'tiers' | 'displayName' | 'locale' | 'disabled'>>) => {
    setChangeError(null);
    setSaved(null);
    try {
      await api('PATCH', `/users/${target.id}`, body);
      setSaved(target.email);
      setEditing(null);
      await client.invalidateQueries({ queryKey: target.id === user?.id ? ['me'] : ['users'] });
      if (target.id === user?.id) await client.invalidateQueries({ queryKey: ['users'] });
    } catch (err) {
      setChangeError(err);
    }
  };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      {sso.data?.roleSync && (
        <p className="muted" data-testid="role-sync-note">
          {t('users.roleSync')}
        </p>
      )}
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
              {admin && <th scope="col">{t('users.actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <Fragment key={u.id}>
                <tr data-testid={`user-${u.id}`}>
                  <td>{u.displayName}</td>
                  <td>{u.email}</td>
                  <td>{t(`role.${u.role}`)}</td>
                  <td>{u.tiers.join(', ')}</td>
                  <td>{u.locale}</td>
                  <td>{u.disabled ? t('users.disabled') : formatDate(u.createdAt)}</td>
                  {admin && (
                    <td>
                      <span className="row inline">
                        <button type="button" className="link" onClick={() => setEditing(editing === u.id ? null : u.id)}>
                          {t('users.edit')}
                        </button>
                        {u.id !== user?.id && (
                          <button type="button" className="link" onClick={() => change(u, { disabled: !u.disabled })}>
                            {u.disabled ? t('users.enable') : t('users.disable')}
                          </button>
                        )}
                      </span>
                    </td>
                  )}
                </tr>
                {admin && editing === u.id && (
                  <tr>
                    <td colSpan={7}>
                      <EditUser target={u} self={u.id === user?.id} onSave={(body) => change(u, body)} onCancel={() => setEditing(null)} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorMessage error={changeError} />
      {saved && <p role="status">{t('users.saved', { email: saved })}</p>}
      {admin && (
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

type UserChange = Partial<Pick<User, 'role' | 'tiers' | 'displayName' | 'locale' | 'disabled'>>;

/** Role, tiers, name and language of one user; an administrator's own role stays as it is. */
function EditUser({ target, self, onSave, onCancel }: { target: User; self: boolean; onSave: (body: UserChange) => void; onCancel: () => void }) {
  const { t } = useT();
  const [form, setForm] = useState({
    role: target.role,
    tiers: target.tiers.join(', '),
    displayName: target.displayName,
    locale: target.locale,
  });
  return (
    <form
      className="row"
      aria-label={t('users.editTitle', { name: target.displayName })}
      onSubmit={(e) => {
        e.preventDefault();
        const tiers = form.tiers
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        // Only what changed is sent, so a refused field does not block the others by accident.
        const body: UserChange = {};
        if (form.role !== target.role) body.role = form.role;
        if (tiers.join() !== target.tiers.join() || (body.role && form.role === 'agent')) body.tiers = tiers;
        if (form.displayName !== target.displayName) body.displayName = form.displayName;
        if (form.locale !== target.locale) body.locale = form.locale;
        if (Object.keys(body).length === 0) return onCancel();
        onSave(body);
      }}
    >
      <label>
        {t('users.name')}
        <input required maxLength={200} value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} />
      </label>
      <label>
        {t('users.role')}
        {/* A vendor contact's role goes with its vendor, which this form does not change. */}
        <select disabled={self || target.role === 'vendor'} value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
          {(target.role === 'vendor' ? [...ROLES, target.role] : ROLES).map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('users.tiers')}
        <input value={form.tiers} onChange={(e) => setForm({ ...form, tiers: e.target.value })} />
      </label>
      <label>
        {t('nav.language')}
        <select value={form.locale} onChange={(e) => setForm({ ...form, locale: e.target.value as Locale })}>
          <option value="fr">Français</option>
          <option value="en">English</option>
        </select>
      </label>
      <button type="submit">{t('common.save')}</button>
      <button type="button" className="link" onClick={onCancel}>
        {t('common.cancel')}
      </button>
    </form>
  );
}
