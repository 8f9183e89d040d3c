import { useId, useState, type ReactNode } from 'react';
import { ApiError } from '../api';
import { useT, type TKey } from '../i18n';
import { useMatrix } from '../matrix';
import { ErrorMessage } from './ErrorMessage';

/** A vendor as the API returns it (GET /vendors, GET /vendors/{id}). */
export interface Vendor {
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
  createdAt: string;
  updatedAt: string;
}

/** What the form edits: the vendor's fields as typed (empty text for "none"). */
export interface VendorValues {
  name: string;
  categories: string[];
  email: string;
  phone: string;
  locale: 'fr' | 'en';
  contractRef: string;
  acknowledge: string;
  resolve: string;
}

export const NO_VENDOR: VendorValues = {
  name: '',
  categories: [],
  email: '',
  phone: '',
  locale: 'fr',
  contractRef: '',
  acknowledge: '',
  resolve: '',
};

export const valuesOf = (v: Vendor): VendorValues => ({
  name: v.name,
  categories: v.categories,
  email: v.email,
  phone: v.phone ?? '',
  locale: v.locale,
  contractRef: v.contractRef ?? '',
  acknowledge: v.acknowledge ?? '',
  resolve: v.resolve ?? '',
});

/** The request body for POST and PATCH /vendors: an emptied optional field is cleared (null). */
export const bodyOf = (v: VendorValues) => ({
  name: v.name,
  categories: v.categories,
  email: v.email,
  locale: v.locale,
  phone: v.phone.trim() || null,
  contractRef: v.contractRef.trim() || null,
  acknowledge: v.acknowledge.trim() || null,
  resolve: v.resolve.trim() || null,
});

type Field = keyof VendorValues;
const FIELDS: Field[] = ['name', 'categories', 'email', 'phone', 'locale', 'contractRef', 'acknowledge', 'resolve'];

/**
 * The fields an API refusal names ("body.email" from the request check, "categories[2]" or
 * "resolve" from the vendor check), so each message can stand next to its field.
 */
function invalidFields(error: unknown): Set<Field> {
  if (!(error instanceof ApiError) || error.status !== 400) return new Set();
  const named = error.details.map((d) => d.path.replace(/^body\./, '').replace(/\[\d+\]$/, ''));
  return new Set(FIELDS.filter((f) => named.includes(f)));
}

/** The label of each field; the names are those the API uses. */
const LABELS: Record<Field, TKey> = {
  name: 'vendors.name',
  categories: 'vendors.categories',
  email: 'vendors.email',
  phone: 'vendors.phone',
  locale: 'vendors.language',
  contractRef: 'vendors.contract',
  acknowledge: 'vendors.acknowledge',
  resolve: 'vendors.resolve',
};

/**
 * Adding a vendor and changing one share this form. `onSubmit` sends the values; when it throws,
 * what was typed stays and the API's refusal is shown, field by field when it names fields.
 */
export function VendorForm({
  title,
  submitLabel,
  initial,
  onSubmit,
  children,
}: {
  title: string;
  submitLabel: string;
  initial: VendorValues;
  onSubmit: (values: VendorValues) => Promise<void>;
  /** Other buttons, after the submit button (a cancel button). */
  children?: ReactNode;
}) {
  const { t, l } = useT();
  const matrix = useMatrix();
  const id = useId();
  const [values, setValues] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const invalid = invalidFields(error);
  const set = (key: Field) => (e: { target: { value: string } }) => setValues({ ...values, [key]: e.target.value });
  /** aria-invalid and the message next to a field the API refused. */
  const flag = (key: Field) =>
    invalid.has(key) ? { 'aria-invalid': true, 'aria-describedby': `${id}-${key}-error` } : {};
  // Outside the field's label, so that it describes the field rather than renaming it.
  const fieldError = (key: Field) =>
    invalid.has(key) && (
      <span className="error field-error" id={`${id}-${key}-error`} data-testid={`error-${key}`}>
        {t(`vendors.invalid.${key}` as TKey)}
      </span>
    );

  return (
    <form
      className="stack card wide"
      aria-labelledby={`${id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        setBusy(true);
        try {
          await onSubmit(values);
        } catch (err) {
          setError(err); // what was typed stays
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <label>
        {t('vendors.name')}
        <input name="name" required maxLength={200} value={values.name} onChange={set('name')} {...flag('name')} />
      </label>
      {fieldError('name')}
      <fieldset {...flag('categories')}>
        <legend>{t('vendors.categories')}</legend>
        {matrix.data?.categories.map((c) => (
          <label key={c.key} className="radio">
            <input
              type="checkbox"
              checked={values.categories.includes(c.key)}
              onChange={(e) =>
                setValues({
                  ...values,
                  categories: e.target.checked ? [...values.categories, c.key] : values.categories.filter((x) => x !== c.key),
                })
              }
            />{' '}
            {l(c.name)}
          </label>
        ))}
        {fieldError('categories')}
      </fieldset>
      <label>
        {t('vendors.email')}
        <input name="email" type="email" required value={values.email} onChange={set('email')} {...flag('email')} />
      </label>
      {fieldError('email')}
      <label>
        {t('vendors.phone')}
        <input name="phone" type="tel" value={values.phone} onChange={set('phone')} {...flag('phone')} />
      </label>
      {fieldError('phone')}
      <label>
        {t('vendors.language')}
        <select name="locale" value={values.locale} onChange={set('locale')} {...flag('locale')}>
          <option value="fr">Français</option>
          <option value="en">English</option>
        </select>
      </label>
      {fieldError('locale')}
      <label>
        {t('vendors.contract')}
        <input
          name="contractRef"
          maxLength={200}
          value={values.contractRef}
          onChange={set('contractRef')}
          {...flag('contractRef')}
        />
      </label>
      {fieldError('contractRef')}
      <label>
        {t('vendors.acknowledge')}
        <input
          name="acknowledge"
          placeholder="PT4H"
          value={values.acknowledge}
          onChange={set('acknowledge')}
          {...flag('acknowledge')}
        />
      </label>
      {fieldError('acknowledge')}
      <label>
        {t('vendors.resolve')}
        <input name="resolve" placeholder="P1D" value={values.resolve} onChange={set('resolve')} {...flag('resolve')} />
      </label>
      {fieldError('resolve')}
      {invalid.size > 0 ? (
        <p role="alert" className="error">
          {t('vendors.invalid', { fields: [...invalid].map((f) => t(LABELS[f])).join(', ') })}
        </p>
      ) : (
        <ErrorMessage error={error} />
      )}
      <div className="row">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {children}
      </div>
    </form>
  );
}
