import { useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { useT } from '../i18n';
import { useSession } from '../session';

export function SignInPage() {
  const { t, locale, setLocale } = useT();
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
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
