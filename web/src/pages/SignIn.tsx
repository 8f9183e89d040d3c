import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { useT, type TKey } from '../i18n';
import { useSession } from '../session';

/** Why single sign-on sent the browser back here (/signin?error=sso_…), as the server names it. */
const SSO_ERRORS = new Set([
  'sso_state',
  'sso_cancelled',
  'sso_failed',
  'sso_unavailable',
  'sso_email_unverified',
  'sso_unknown_user',
  'sso_user_disabled',
  'sso_no_role',
]);

export function SignInPage() {
  const { t, locale, setLocale } = useT();
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const sso = useQuery({
    queryKey: ['sso'],
    queryFn: () => api<{ enabled: boolean }>('GET', '/auth/oidc'),
    staleTime: Infinity,
    retry: false,
  });
  const ssoError = new URLSearchParams(window.location.search).get('error');
  return (
    <main id="main" className="signin">
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await signIn(email, password);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>{t('signIn.title')}</h1>
        {ssoError && SSO_ERRORS.has(ssoError) && !error && (
          <p role="alert" className="error">
            {t(`signIn.${ssoError}` as TKey)}
          </p>
        )}
        {sso.data?.enabled && (
          <>
            {/* A full-page navigation: the identity provider's pages cannot run inside this one. */}
            <a className="button" href="/api/v1/auth/oidc/login" data-testid="sso">
              {t('signIn.sso')}
            </a>
            <p className="sso-or">{t('signIn.or')}</p>
          </>
        )}
        <label>
          {t('signIn.email')}
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t('signIn.password')}
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy}>
          {t('signIn.submit')}
        </button>
        <p className="lang-switch">
          <button type="button" className="link" onClick={() => setLocale(locale === 'fr' ? 'en' : 'fr')}>
            {locale === 'fr' ? 'English' : 'Français'}
          </button>
        </p>
      </form>
    </main>
  );
}
