import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, type Localized, type Matrix } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { useT, type T, type TKey } from '../i18n';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Weekday = (typeof WEEKDAYS)[number];
interface Range {
  start: string;
  end: string;
}
/** The calendar shapes of src/domain/calendar.ts, as the API sends them. */
type Calendar =
  | { kind: '24x7' }
  | {
      kind: 'business-hours';
      timeZone: string;
      week: Partial<Record<Weekday, Range[]>>;
      holidays?: { country: string; region?: string };
      /** A plain date, or with the name people know the day by. */
      closures?: Array<string | { date: string; name?: string }>;
    };
interface NamedCalendar {
  key: string;
  name?: Localized;
  calendar: Calendar;
}
type CalendarMatrix = Matrix & { calendars?: NamedCalendar[] };

/** Mirrors DEFAULT_CALENDARS of src/domain/matrix.ts: every matrix has them unless it redefines their key. */
const nineToSix = (): Range[] => [{ start: '09:00', end: '18:00' }];
const BUILT_IN: NamedCalendar[] = [
  { key: '24x7', name: { fr: '24 h/24, 7 j/7', en: '24x7' }, calendar: { kind: '24x7' } },
  {
    key: 'business',
    name: { fr: 'Heures ouvrées (Paris)', en: 'Business hours (Paris)' },
    calendar: {
      kind: 'business-hours',
      timeZone: 'Europe/Paris',
      week: { mon: nineToSix(), tue: nineToSix(), wed: nineToSix(), thu: nineToSix(), fri: nineToSix() },
      holidays: { country: 'FR' },
    },
  },
];
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Who counts time on a calendar: SLA targets (P1 defaults to 24x7, others to business) and category clocks. */
function usersOf(m: CalendarMatrix, key: string, t: T, l: (x: Localized | undefined) => string): string[] {
  const targets = m.sla
    .filter((s) => (s.calendar ?? (s.priority === 'P1' ? '24x7' : 'business')) === key)
    .map((s) => {
      const label = t('calendars.slaTarget', { tier: s.tier, priority: s.priority });
      const category = s.category ? ` · ${l(m.categories.find((c) => c.key === s.category)?.name) || s.category}` : '';
      return `${label}${category}${s.calendar ? '' : ` ${t('calendars.byDefault')}`}`;
    });
  const clocks = m.categories.flatMap((c) =>
    (c.clocks ?? []).filter((k) => (k.calendar ?? '24x7') === key).map((k) => t('calendars.clock', { name: l(k.name) })),
  );
  return [...targets, ...clocks];
}

interface Draft {
  key: string;
  alwaysOpen: boolean;
  nameFr: string;
  nameEn: string;
  timeZone: string;
  week: Record<Weekday, Range[]>;
  country: string;
  region: string;
  closures: DatedDay[];
}
interface DatedDay {
  date: string;
  name?: string;
}
const datedDay = (c: string | DatedDay): DatedDay => (typeof c === 'string' ? { date: c } : c);

function draftOf(c: NamedCalendar | undefined): Draft {
  const cal = c?.calendar.kind === 'business-hours' ? c.calendar : BUILT_IN[1]!.calendar;
  if (cal.kind !== 'business-hours') throw new Error('unreachable');
  return {
    key: c?.key ?? '',
    alwaysOpen: c?.calendar.kind === '24x7',
    nameFr: c?.name?.fr ?? '',
    nameEn: c?.name?.en ?? '',
    timeZone: cal.timeZone,
    week: Object.fromEntries(WEEKDAYS.map((d) => [d, (cal.week[d] ?? []).map((r) => ({ ...r }))])) as Record<Weekday, Range[]>,
    country: cal.holidays?.country ?? '',
    region: cal.holidays?.region ?? '',
    closures: (cal.closures ?? []).map(datedDay),
  };
}

/** The calendar as the matrix stores it; a closed day is left out, empty names and holidays too. */
function calendarOf(d: Draft): NamedCalendar {
  const week = Object.fromEntries(WEEKDAYS.filter((day) => d.week[day].length > 0).map((day) => [day, d.week[day]]));
  const name = d.nameFr.trim() || d.nameEn.trim() ? { name: { fr: d.nameFr, en: d.nameEn } } : {};
  const country = d.country.trim().toUpperCase();
  if (d.alwaysOpen) return { key: d.key.trim(), ...name, calendar: { kind: '24x7' } };
  return {
    key: d.key.trim(),
    ...name,
    calendar: {
      kind: 'business-hours',
      timeZone: d.timeZone.trim(),
      week,
      ...(country ? { holidays: { country, ...(d.region.trim() ? { region: d.region.trim() } : {}) } } : {}),
      ...(d.closures.length
        ? {
            closures: [...d.closures]
              .sort((a, b) => a.date.localeCompare(b.date))
              .map((c) => (c.name?.trim() ? { date: c.date, name: c.name.trim() } : c.date)),
          }
        : {}),
    },
  };
}

export function CalendarsPage() {
  const { t, l } = useT();
  const { user } = useSession();
  const client = useQueryClient();
  const current = useMatrix();
  // `editing`: the index in the matrix's calendars, or 'new'.
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const [draft, setDraft] = useState<Draft>(draftOf(undefined));
  const [deleting, setDeleting] = useState<string | null>(null);
  const [blocked, setBlocked] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<number | null>(null);

  if (current.error) return <ErrorMessage error={current.error} />;
  const m = current.data as CalendarMatrix | undefined;
  if (!m) return <p>{t('common.loading')}</p>;
  const isAdmin = user?.role === 'admin';
  const own = m.calendars ?? [];
  const listed = [
    ...own.map((c, index) => ({ c, index })),
    ...BUILT_IN.filter((b) => !own.some((c) => c.key === b.key)).map((c) => ({ c, index: -1 })),
  ];
  const nameOf = (c: NamedCalendar) => l(c.name) || c.key;

  /** One PUT of the whole matrix: the API stores all of it as a new version, or nothing. */
  const store = async (calendars: NamedCalendar[], comment: string) => {
    setError(null);
    setSaved(null);
    try {
      const next = await api<Matrix>('PUT', '/matrix', { ...m, calendars, version: m.version, comment });
      setSaved(next.version);
      setEditing(null);
      setDeleting(null);
      await client.invalidateQueries({ queryKey: ['matrix'] });
      await client.invalidateQueries({ queryKey: ['matrix-versions'] });
    } catch (err) {
      setError(err); // the form keeps what was typed
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const next = calendarOf(draft);
    if (editing === 'new') {
      if (!KEY_RE.test(next.key)) return setError(new ApiError(400, 'local', t('calendars.keyInvalid')));
      if (listed.some(({ c }) => c.key === next.key))
        return setError(new ApiError(400, 'local', t('calendars.keyTaken', { key: next.key })));
      return void store([...own, next], t('calendars.comment.added', { key: next.key }));
    }
    if (typeof editing === 'number')
      return void store(
        own.map((c, i) => (i === editing ? next : c)),
        t('calendars.comment.changed', { key: next.key }),
      );
  };

  const startEditing = (index: number | 'new') => {
    setDraft(draftOf(index === 'new' ? undefined : own[index]));
    setEditing(index);
    setDeleting(null);
    setBlocked(null);
    setError(null);
    setSaved(null);
  };

  const askDelete = (c: NamedCalendar) => {
    setError(null);
    setSaved(null);
    // A built-in key redefined by the matrix falls back to the built-in calendar: nothing is left without one.
    const users = BUILT_IN.some((b) => b.key === c.key) ? [] : usersOf(m, c.key, t, l);
    if (users.length > 0) {
      setDeleting(null);
      setBlocked(t('calendars.inUse', { name: nameOf(c), users: users.join(', ') }));
    } else {
      setBlocked(null);
      setDeleting(c.key);
    }
  };

  return (
    <section aria-labelledby="calendars-title" className="calendars-page">
      <h1 id="calendars-title">
        {t('calendars.title')} <span className="muted">— {t('common.version', { v: m.version })}</span>
      </h1>
      <p className="muted">{t('calendars.intro')}</p>
      {isAdmin && editing === null && (
        <div className="toolbar">
          <button type="button" onClick={() => startEditing('new')}>
            {t('calendars.add')}
          </button>
        </div>
      )}
      {saved !== null && (
        <p role="status" className="ok">
          {t('calendars.saved', { v: saved })}
        </p>
      )}
      {blocked && (
        <p role="alert" className="error">
          {blocked}
        </p>
      )}
      {editing === null && <SaveError error={error} m={m} />}
      {isAdmin && editing !== null && (
        <CalendarForm
          draft={draft}
          setDraft={setDraft}
          isNew={editing === 'new'}
          title={editing === 'new' ? t('calendars.newTitle') : t('calendars.editTitle', { name: nameOf(own[editing]!) })}
          onSubmit={submit}
          onCancel={() => (setEditing(null), setError(null))}
          error={<SaveError error={error} m={m} />}
        />
      )}
      <div className="cards">
        {listed.map(({ c, index }) => (
          <article key={c.key} className="card calendar" aria-labelledby={`calendar-${c.key}`} data-testid={`calendar-${c.key}`}>
            <h2 id={`calendar-${c.key}`}>
              {nameOf(c)} <code className="muted">{c.key}</code>
              {index < 0 && <span className="chip">{t('calendars.builtIn')}</span>}
            </h2>
            <CalendarFacts calendar={c.calendar} />
            <h3>{t('calendars.usedBy')}</h3>
            <UsedBy users={usersOf(m, c.key, t, l)} />
            {isAdmin && index >= 0 && editing === null && (
              <div className="row">
                <button type="button" onClick={() => startEditing(index)}>
                  {t('calendars.edit')}
                </button>
                <button type="button" className="secondary" onClick={() => askDelete(c)}>
                  {t('calendars.delete')}
                </button>
              </div>
            )}
            {deleting === c.key && (
              <div className="confirm" role="group" aria-label={t('calendars.deleteYes')}>
                <p>{t('calendars.deleteConfirm', { name: nameOf(c) })}</p>
                <button
                  type="button"
                  onClick={() =>
                    void store(
                      own.filter((x) => x.key !== c.key),
                      t('calendars.comment.deleted', { key: c.key }),
                    )
                  }
                >
                  {t('calendars.deleteYes')}
                </button>
                <button type="button" className="secondary" onClick={() => setDeleting(null)}>
                  {t('common.cancel')}
                </button>
              </div>
            )}
          </article>
        ))}
      </div>
    </section>
  );
}

function UsedBy({ users }: { users: string[] }) {
  const { t } = useT();
  if (users.length === 0) return <p className="muted">{t('calendars.unused')}</p>;
  return (
    <ul className="used-by">
      {users.map((u) => (
        <li key={u}>{u}</li>
      ))}
    </ul>
  );
}

/** Time zone, a week table (one column per day) and the closed days of a calendar. */
function CalendarFacts({ calendar }: { calendar: Calendar }) {
  const { t, locale } = useT();
  if (calendar.kind === '24x7') return <p>{t('calendars.alwaysOpen')}</p>;
  const countries = new Intl.DisplayNames([locale], { type: 'region' });
  const countryName = (code: string) => {
    try {
      return `${countries.of(code) ?? code} (${code})`;
    } catch {
      return code;
    }
  };
  const dayText = (d: Weekday) => t(`day.${d}` as TKey);
  return (
    <>
      <dl className="facts">
        <dt>{t('calendars.timeZone')}</dt>
        <dd>{calendar.timeZone}</dd>
        <dt>{t('calendars.publicHolidays')}</dt>
        <dd>
          {calendar.holidays ? (
            <>
              {countryName(calendar.holidays.country)}
              {calendar.holidays.region ? `, ${t('calendars.region', { region: calendar.holidays.region })}` : ''}
              <PublicHolidays country={calendar.holidays.country} region={calendar.holidays.region} />
            </>
          ) : (
            t('calendars.noPublicHolidays')
          )}
        </dd>
        <dt>{t('calendars.closures')}</dt>
        <dd>
          {calendar.closures?.length ? (
            <DatedDays days={calendar.closures.map(datedDay)} className="closures" />
          ) : (
            t('calendars.noClosures')
          )}
        </dd>
      </dl>
      <table className="week" aria-label={t('calendars.hours')}>
        <thead>
          <tr>
            {WEEKDAYS.map((d) => (
              <th key={d} scope="col" title={dayText(d)}>
                {dayText(d).slice(0, 3)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {WEEKDAYS.map((d) => {
              const ranges = calendar.week[d] ?? [];
              return (
                <td key={d} data-day={d} className={ranges.length ? '' : 'closed'}>
                  {ranges.length ? ranges.map((r) => <div key={r.start}>{`${r.start}–${r.end}`}</div>) : t('calendars.closed')}
                </td>
              );
            })}
          </tr>
        </tbody>
      </table>
    </>
  );
}

/** This year's public holidays of a calendar, by date and name, folded away: they are many. */
function PublicHolidays({ country, region }: { country: string; region?: string }) {
  const { t, locale } = useT();
  const year = new Date().getFullYear();
  const query = `country=${encodeURIComponent(country)}${region ? `&region=${encodeURIComponent(region)}` : ''}&year=${year}&lang=${locale}`;
  const list = useQuery({
    queryKey: ['holidays', query],
    queryFn: () => api<{ holidays: Array<{ date: string; name: string }> }>('GET', `/matrix/holidays?${query}`),
    staleTime: Infinity,
  });
  if (!list.data) return <ErrorMessage error={list.error} />;
  return (
    <details className="holidays">
      <summary>{t('calendars.holidaysIn', { n: list.data.holidays.length, year })}</summary>
      <DatedDays days={list.data.holidays} />
    </details>
  );
}

/** Days in words, each with its name when it has one. */
function DatedDays({ days, className }: { days: DatedDay[]; className?: string }) {
  const { locale } = useT();
  return (
    <ul className={className}>
      {days.map((d) => (
        <li key={`${d.date}${d.name ?? ''}`}>
          <time dateTime={d.date}>{formatDay(d.date, locale)}</time>
          {d.name ? ` — ${d.name}` : ''}
        </li>
      ))}
    </ul>
  );
}

/** A local date "YYYY-MM-DD" in words, without any time zone shift. */
function formatDay(date: string, locale: string): string {
  const at = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(at.getTime()) ? date : new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeZone: 'UTC' }).format(at);
}

const TIME_ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

function CalendarForm({
  draft,
  setDraft,
  isNew,
  title,
  onSubmit,
  onCancel,
  error,
}: {
  draft: Draft;
  setDraft: (d: Draft) => void;
  isNew: boolean;
  title: string;
  onSubmit: (e: FormEvent) => void;
  onCancel: () => void;
  error: ReactNode;
}) {
  const { t } = useT();
  return (
    <form className="card stack calendar-form" aria-label={title} onSubmit={onSubmit}>
      <h2>{title}</h2>
      {isNew && (
        <label>
          {t('calendars.key')}
          <input required maxLength={64} value={draft.key} onChange={(e) => setDraft({ ...draft, key: e.target.value })} />
        </label>
      )}
      <div className="row">
        <label>
          {t('calendars.nameFr')}
          <input maxLength={2000} value={draft.nameFr} onChange={(e) => setDraft({ ...draft, nameFr: e.target.value })} />
        </label>
        <label>
          {t('calendars.nameEn')}
          <input maxLength={2000} value={draft.nameEn} onChange={(e) => setDraft({ ...draft, nameEn: e.target.value })} />
        </label>
      </div>
      <label className="radio">
        <input
          type="checkbox"
          checked={draft.alwaysOpen}
          onChange={(e) => setDraft({ ...draft, alwaysOpen: e.target.checked })}
        />
        {t('calendars.alwaysOpenField')}
      </label>
      {!draft.alwaysOpen && <BusinessHoursFields draft={draft} setDraft={setDraft} />}
      {error}
      <div className="row">
        <button type="submit">{t('calendars.save')}</button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

/** Time zone, opening hours per weekday, public holidays and closed days of a business-hours calendar. */
function BusinessHoursFields({ draft, setDraft }: { draft: Draft; setDraft: (d: Draft) => void }) {
  const { t } = useT();
  const [closure, setClosure] = useState('');
  const [closureName, setClosureName] = useState('');
  const dayText = (d: Weekday) => t(`day.${d}` as TKey);
  const setRanges = (day: Weekday, ranges: Range[]) => setDraft({ ...draft, week: { ...draft.week, [day]: ranges } });
  return (
    <>
      <label>
        {t('calendars.timeZone')}
        {/* A free text field with suggestions: the API is the judge of which zones exist. */}
        <input
          list="time-zones"
          value={draft.timeZone}
          aria-describedby="tz-help"
          onChange={(e) => setDraft({ ...draft, timeZone: e.target.value })}
        />
        <datalist id="time-zones">
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <small id="tz-help" className="muted">
          {t('calendars.timeZoneHelp')}
        </small>
      </label>
      <fieldset>
        <legend>{t('calendars.hours')}</legend>
        <p className="muted">{t('calendars.hoursHelp')}</p>
        {WEEKDAYS.map((day) => (
          <div key={day} className="day-ranges" data-day={day}>
            <strong>{dayText(day)}</strong>
            {draft.week[day].length === 0 && <span className="muted"> {t('calendars.closed')}</span>}
            {draft.week[day].map((r, n) => (
              <span key={n} className="range">
                <input
                  className="time"
                  placeholder="09:00"
                  aria-label={t('calendars.from', { day: dayText(day), n: n + 1 })}
                  value={r.start}
                  onChange={(e) =>
                    setRanges(
                      day,
                      draft.week[day].map((x, i) => (i === n ? { ...x, start: e.target.value } : x)),
                    )
                  }
                />
                –
                <input
                  className="time"
                  placeholder="18:00"
                  aria-label={t('calendars.to', { day: dayText(day), n: n + 1 })}
                  value={r.end}
                  onChange={(e) =>
                    setRanges(
                      day,
                      draft.week[day].map((x, i) => (i === n ? { ...x, end: e.target.value } : x)),
                    )
                  }
                />
                <button
                  type="button"
                  className="link"
                  aria-label={t('calendars.removeRange', { day: dayText(day), n: n + 1 })}
                  onClick={() =>
                    setRanges(
                      day,
                      draft.week[day].filter((_, i) => i !== n),
                    )
                  }
                >
                  ×
                </button>
              </span>
            ))}
            <button
              type="button"
              className="link"
              aria-label={t('calendars.addRange', { day: dayText(day) })}
              onClick={() => setRanges(day, [...draft.week[day], { start: '', end: '' }])}
            >
              +
            </button>
          </div>
        ))}
      </fieldset>
      <fieldset>
        <legend>{t('calendars.publicHolidays')}</legend>
        <div className="row">
          <label>
            {t('calendars.country')}
            <input maxLength={3} value={draft.country} onChange={(e) => setDraft({ ...draft, country: e.target.value })} />
          </label>
          <label>
            {t('calendars.regionField')}
            <input maxLength={10} value={draft.region} onChange={(e) => setDraft({ ...draft, region: e.target.value })} />
          </label>
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('calendars.closures')}</legend>
        <ul className="closures">
          {draft.closures.map((d) => (
            <li key={d.date}>
              <time dateTime={d.date}>{d.date}</time>
              {d.name ? ` — ${d.name}` : ''}{' '}
              <button
                type="button"
                className="link"
                aria-label={t('calendars.removeClosure', { date: d.date })}
                onClick={() => setDraft({ ...draft, closures: draft.closures.filter((x) => x !== d) })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="row">
          <label>
            {t('calendars.closureDate')}
            <input type="date" value={closure} onChange={(e) => setClosure(e.target.value)} />
          </label>
          <label>
            {t('calendars.closureName')}
            <input maxLength={200} value={closureName} onChange={(e) => setClosureName(e.target.value)} />
          </label>
          <button
            type="button"
            disabled={!closure}
            onClick={() => {
              // One entry per day: adding a day again renames it.
              const others = draft.closures.filter((c) => c.date !== closure);
              setDraft({
                ...draft,
                closures: [...others, { date: closure, ...(closureName.trim() ? { name: closureName } : {}) }],
              });
              setClosure('');
              setClosureName('');
            }}
          >
            {t('calendars.addClosure')}
          </button>
        </div>
      </fieldset>
    </>
  );
}

/**
 * A refused save in the user's language. The matrix's validation problems are listed one by one,
 * each with its precise path and, for calendars, which calendar, day and range it is about.
 */
function SaveError({ error, m }: { error: unknown; m: CalendarMatrix }) {
  const { t, l } = useT();
  if (!(error instanceof ApiError) || error.code !== 'invalid_matrix' || error.details.length === 0)
    return <ErrorMessage error={error} />;
  return (
    <div role="alert" className="error">
      <p>{t('calendars.invalid')}</p>
      <ul>
        {error.details.map((d) => (
          <li key={`${d.path}:${d.message}`}>
            {describePath(d.path, m, t, l)} <code>{d.path}</code>: {translateMessage(d.message, t)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** "calendars[2].calendar.week.tue[0].end" → "Calendar «Astreinte», Tuesday, range 1, end". */
function describePath(path: string, m: CalendarMatrix, t: T, l: (x: Localized | undefined) => string): string {
  const found = /^calendars\[(\d+)\](.*)$/.exec(path);
  if (!found) return '';
  // The index refers to the calendars that were sent, which are the matrix's plus the new one at the end.
  const sent = m.calendars?.[Number(found[1])];
  const parts = [sent ? l(sent.name) || sent.key : t('calendars.newTitle')];
  const rest = found[2]!;
  const day = /\.week\.(mon|tue|wed|thu|fri|sat|sun)(?:\[(\d+)\])?(?:\.(start|end))?/.exec(rest);
  if (day) {
    parts.push(t(`day.${day[1]}` as TKey));
    if (day[2] !== undefined) parts.push(t('calendars.field.range', { n: Number(day[2]) + 1 }));
    if (day[3]) parts.push(t(`calendars.field.${day[3]}` as TKey));
  } else {
    const field = ['timeZone', 'name', 'key', 'holidays', 'closures'].find((f) => rest.includes(`.${f}`));
    if (field) parts.push(t(`calendars.field.${field}` as TKey));
  }
  return parts.join(', ');
}

function translateMessage(message: string, t: T): string {
  const key = `calendars.msg.${message}` as TKey;
  const known = t(key);
  if (known !== key) return known;
  return message.startsWith('unknown ') ? `${t('calendars.msg.unknown')} (${message.slice('unknown '.length)})` : message;
}
