import { ApiError } from '../api';
import { useT, type TKey } from '../i18n';

/** A readable message for any failure: never a raw error object. */
export function useErrorText() {
  const { t } = useT();
  return (error: unknown): string => {
    if (!(error instanceof ApiError)) return t('error.generic', { status: '?' });
    if (error.code === 'network') return t('error.network');
    if (error.status >= 500) return t('error.generic', { status: error.status });
    const known = `error.${error.code}` as TKey;
    const translated = t(known);
    if (translated !== known) return translated;
    // The API's own message is written for people; the details say which field is wrong.
    const details = error.details.map((d) => `${d.path}: ${d.message}`).join('; ');
    return `${error.message}${details ? ` (${details})` : ''}. ${t('error.kept')}`;
  };
}

export function ErrorMessage({ error }: { error: unknown }) {
  const text = useErrorText();
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {text(error)}
    </p>
  );
}
