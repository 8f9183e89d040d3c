import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, type Team, type User } from '../api';
import { ErrorMessage } from '../components/ErrorMessage';
import { formatDate, useT } from '../i18n';
import { useMatrix } from '../matrix';
import { useSession } from '../session';

interface OnCall {
  at: string;
  tiers: Array<{
    tier: string;
    teams: Array<{
      id: number;
      name: string;
      onCall: { userId: number; name: string; source: string } | null;
      until: string | null;
    }>;
  }>;
}

type Member = { userId: number; role: 'member' | 'manager' };

/** A datetime-local value (browser time) as an ISO instant; empty stays empty. */
const instantOf = (local: string) => (local ? new Date(local).toISOString() : '');

/** Tier teams and who is on call: staff read, administrators change. */
export function TeamsPage() {
  const { t, l } = useT();
  const { user } = useSession();
  const admin = user?.role === 'admin';
  const teams = useQuery({ queryKey: ['teams'], queryFn: () => api<{ items: Team[] }>('GET', '/teams') });
  const oncall = useQuery({ queryKey: ['oncall'], queryFn: () => api<OnCall>('GET', '/oncall') });
  const users = useQuery({
    queryKey: ['users'],
    queryFn: () => api<{ items: User[] }>('GET', '/users?limit=500'),
    enabled: admin,
  });
  const matrix = useMatrix();
  const tierName = (key: string) => l(matrix.data?.tiers.find((x) => x.key === key)?.name) || key;

  return (
    <section aria-labelledby="teams-title" className="stack">
      <h1 id="teams-title">{t('teams.title')}</h1>
      <ErrorMessage error={teams.error ?? oncall.error} />
      <section aria-labelledby="oncall-title" className="card">
        <h2 id="oncall-title">{t('teams.onCallNow')}</h2>
        <div className="grid-wrap">
          <table className="list" data-testid="oncall">
            <thead>
              <tr>
                <th scope="col">{t('common.tier')}</th>
                <th scope="col">{t('teams.team')}</th>
                <th scope="col">{t('teams.onCall')}</th>
                <th scope="col">{t('teams.untilCol')}</th>
              </tr>
            </thead>
            <tbody>
              {oncall.data?.tiers.flatMap((tier) =>
                tier.teams.map((team) => (
                  <tr key={team.id}>
                    <td>{tierName(tier.tier)}</td>
                    <td>{team.name}</td>
                    <td>
                      {team.onCall ? team.onCall.name : t('teams.nobody')}
                      {team.onCall?.source === 'override' && <span className="muted"> ({t('teams.override')})</span>}
                    </td>
                    <td>{team.until ? formatDate(team.until) : '—'}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
        {oncall.data && oncall.data.tiers.length === 0 && <p className="muted">{t('teams.none')}</p>}
      </section>
      {teams.data?.items.map((team) => (
        <TeamCard key={team.id} team={team} admin={admin} users={users.data?.items ?? []} tierName={tierName} />
      ))}
      {admin && <NewTeam tiers={matrix.data?.tiers.map((x) => x.key) ?? []} tierName={tierName} />}
    </section>
  );
}

function useRefresh() {
  const client = useQueryClient();
  return () =>
    Promise.all([client.invalidateQueries({ queryKey: ['teams'] }), client.invalidateQueries({ queryKey: ['oncall'] })]);
}

function TeamCard({
  team,
  admin,
  users,
  tierName,
}: {
  team: Team;
  admin: boolean;
  users: User[];
  tierName: (k: string) => string;
}) {
  const { t } = useT();
  const refresh = useRefresh();
  const [error, setError] = useState<unknown>(null);
  const [adding, setAdding] = useState({ userId: '', role: 'member' });
  const [override, setOverride] = useState({ userId: '', startsAt: '', endsAt: '', reason: '' });
  const members = team.members.filter((m) => m.role === 'member');
  const managers = team.members.filter((m) => m.role === 'manager');
  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await refresh();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const current = (): Member[] => team.members.map((m) => ({ userId: m.userId, role: m.role }));
  const putMembers = (list: Member[]) => run(() => api('PUT', `/teams/${team.id}/members`, list));
  /** Swaps a member with the one before or after it in the rotation; managers keep their place. */
  const move = (index: number, by: -1 | 1) => {
    const order = members.map((m) => ({ userId: m.userId, role: 'member' as const }));
    const [item] = order.splice(index, 1);
    order.splice(index + by, 0, item!);
    return putMembers([...order, ...managers.map((m) => ({ userId: m.userId, role: 'manager' as const }))]);
  };
  // Only people the API accepts are offered: managers and admins, and for the rotation the tier's agents.
  const fits = (u: User, role: string) =>
    !u.disabled &&
    (u.role === 'manager' || u.role === 'admin' || (role === 'member' && u.role === 'agent' && u.tiers.includes(team.tier)));
  const candidates = users.filter(
    (u) => fits(u, adding.role) && !team.members.some((m) => m.userId === u.id && m.role === adding.role),
  );
  const titleId = `team-${team.id}-title`;

  return (
    <article className="card stack" aria-labelledby={titleId} data-testid={`team-${team.id}`}>
      <h2 id={titleId}>{team.name}</h2>
      <dl className="facts">
        <dt>{t('common.tier')}</dt>
        <dd>{tierName(team.tier)}</dd>
        <dt>{t('teams.email')}</dt>
        <dd>{team.email ?? '—'}</dd>
        <dt>{t('teams.webhook')}</dt>
        <dd>{admin ? (team.chatWebhookUrl ?? '—') : team.chatWebhookUrl ? t('teams.webhookSet') : '—'}</dd>
        <dt>{t('teams.rotation')}</dt>
        <dd>
          {t(`teams.period.${team.rotation.period}`)}, {team.rotation.handoverTime} ({team.rotation.timeZone})
        </dd>
        <dt>{t('teams.onCall')}</dt>
        <dd data-testid="team-oncall">
          {team.onCall ? team.onCall.name : t('teams.nobody')}
          {team.onCall?.until && ` — ${t('teams.until')} ${formatDate(team.onCall.until)}`}
        </dd>
      </dl>

      <h3>{t('teams.members')}</h3>
      {members.length === 0 && <p className="muted">{t('common.none')}</p>}
      <ol data-testid="members">
        {members.map((m, i) => (
          <li key={m.userId}>
            <span>{m.name}</span> <span className="muted">{m.email}</span>
            {admin && (
              <span className="row inline">
                <button
                  type="button"
                  className="link"
                  disabled={i === 0}
                  onClick={() => move(i, -1)}
                  aria-label={t('teams.up', { name: m.name })}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="link"
                  disabled={i === members.length - 1}
                  onClick={() => move(i, 1)}
                  aria-label={t('teams.down', { name: m.name })}
                >
                  ↓
                </button>
                <RemoveButton
                  name={m.name}
                  onClick={() => putMembers(current().filter((x) => !(x.userId === m.userId && x.role === 'member')))}
                />
              </span>
            )}
          </li>
        ))}
      </ol>
      <h3>{t('teams.managers')}</h3>
      {managers.length === 0 && <p className="muted">{t('common.none')}</p>}
      <ul data-testid="managers">
        {managers.map((m) => (
          <li key={m.userId}>
            <span>{m.name}</span> <span className="muted">{m.email}</span>
            {admin && (
              <span className="row inline">
                <RemoveButton
                  name={m.name}
                  onClick={() => putMembers(current().filter((x) => !(x.userId === m.userId && x.role === 'manager')))}
                />
              </span>
            )}
          </li>
        ))}
      </ul>
      {admin && (
        <form
          className="row"
          aria-label={t('teams.addMember')}
          onSubmit={async (e) => {
            e.preventDefault();
            if (!adding.userId) return;
            const role = adding.role as Member['role'];
            const list = current();
            // A new member goes last in the rotation, before the managers.
            const at = role === 'member' ? list.filter((x) => x.role === 'member').length : list.length;
            list.splice(at, 0, { userId: Number(adding.userId), role });
            if (await putMembers(list)) setAdding({ ...adding, userId: '' });
          }}
        >
          <label>
            {t('teams.person')}
            <select value={adding.userId} onChange={(e) => setAdding({ ...adding, userId: e.target.value })}>
              <option value="">—</option>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.displayName} ({u.email})
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('teams.as')}
            <select value={adding.role} onChange={(e) => setAdding({ ...adding, role: e.target.value })}>
              <option value="member">{t('teams.asMember')}</option>
              <option value="manager">{t('teams.asManager')}</option>
            </select>
          </label>
          <button type="submit">{t('teams.addMember')}</button>
        </form>
      )}

      <h3>{t('teams.overrides')}</h3>
      {team.overrides.length === 0 ? (
        <p className="muted">{t('common.none')}</p>
      ) : (
        <table className="list" data-testid="overrides">
          <thead>
            <tr>
              <th scope="col">{t('teams.person')}</th>
              <th scope="col">{t('teams.from')}</th>
              <th scope="col">{t('teams.to')}</th>
              <th scope="col">{t('teams.reason')}</th>
              {admin && <th scope="col">—</th>}
            </tr>
          </thead>
          <tbody>
            {team.overrides.map((o) => (
              <tr key={o.id}>
                <td>{o.name ?? t('common.user', { id: o.userId })}</td>
                <td>{formatDate(o.startsAt)}</td>
                <td>{formatDate(o.endsAt)}</td>
                <td>{o.reason ?? ''}</td>
                {admin && (
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => run(() => api('DELETE', `/teams/${team.id}/overrides/${o.id}`))}
                    >
                      {t('teams.removeOverride')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && (
        <form
          className="row"
          aria-label={t('teams.addOverride')}
          onSubmit={async (e) => {
            e.preventDefault();
            const ok = await run(() =>
              api('POST', `/teams/${team.id}/overrides`, {
                userId: Number(override.userId),
                startsAt: instantOf(override.startsAt),
                endsAt: instantOf(override.endsAt),
                ...(override.reason ? { reason: override.reason } : {}),
              }),
            );
            if (ok) setOverride({ userId: '', startsAt: '', endsAt: '', reason: '' });
          }}
        >
          <label>
            {t('teams.overridePerson')}
            <select required value={override.userId} onChange={(e) => setOverride({ ...override, userId: e.target.value })}>
              <option value="">—</option>
              {users
                .filter((u) => fits(u, 'member'))
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.displayName} ({u.email})
                  </option>
                ))}
            </select>
          </label>
          <label>
            {t('teams.from')}
            <input
              type="datetime-local"
              required
              value={override.startsAt}
              onChange={(e) => setOverride({ ...override, startsAt: e.target.value })}
            />
          </label>
          <label>
            {t('teams.to')}
            <input
              type="datetime-local"
              required
              value={override.endsAt}
              onChange={(e) => setOverride({ ...override, endsAt: e.target.value })}
            />
          </label>
          <label>
            {t('teams.reason')}
            <input
              value={override.reason}
              maxLength={500}
              onChange={(e) => setOverride({ ...override, reason: e.target.value })}
            />
          </label>
          <button type="submit">{t('teams.addOverride')}</button>
        </form>
      )}
      {admin && <TeamSettings team={team} run={run} />}
      <ErrorMessage error={error} />
    </article>
  );
}

interface Settings {
  name: string;
  email: string;
  chatWebhookUrl: string;
  period: 'daily' | 'weekly';
  handoverTime: string;
  timeZone: string;
}

function SettingsFields({ value, onChange }: { value: Settings; onChange: (v: Settings) => void }) {
  const { t } = useT();
  const set = (key: keyof Settings) => (e: { target: { value: string } }) => onChange({ ...value, [key]: e.target.value });
  return (
    <>
      <label>
        {t('teams.name')}
        <input required maxLength={200} value={value.name} onChange={set('name')} />
      </label>
      <label>
        {t('teams.email')}
        <input type="email" value={value.email} onChange={set('email')} />
      </label>
      <label>
        {t('teams.webhook')}
        <input type="url" value={value.chatWebhookUrl} onChange={set('chatWebhookUrl')} />
      </label>
      <label>
        {t('teams.period')}
        <select value={value.period} onChange={set('period')}>
          <option value="daily">{t('teams.period.daily')}</option>
          <option value="weekly">{t('teams.period.weekly')}</option>
        </select>
      </label>
      <label>
        {t('teams.handoverTime')}
        <input type="time" value={value.handoverTime} onChange={set('handoverTime')} />
      </label>
      <label>
        {t('teams.timeZone')}
        <input value={value.timeZone} onChange={set('timeZone')} />
      </label>
    </>
  );
}

const bodyOf = (s: Settings) => ({
  name: s.name,
  email: s.email || null,
  chatWebhookUrl: s.chatWebhookUrl || null,
  rotation: { period: s.period, handoverTime: s.handoverTime, timeZone: s.timeZone },
});

function TeamSettings({ team, run }: { team: Team; run: (action: () => Promise<unknown>) => Promise<boolean> }) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<Settings>({
    name: team.name,
    email: team.email ?? '',
    chatWebhookUrl: team.chatWebhookUrl ?? '',
    period: team.rotation.period,
    handoverTime: team.rotation.handoverTime,
    timeZone: team.rotation.timeZone,
  });
  if (!open)
    return (
      <div className="row">
        <button type="button" onClick={() => setOpen(true)}>
          {t('teams.edit')}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            if (window.confirm(t('teams.deleteConfirm', { name: team.name }))) void run(() => api('DELETE', `/teams/${team.id}`));
          }}
        >
          {t('teams.delete')}
        </button>
      </div>
    );
  return (
    <form
      className="stack wide"
      aria-label={t('teams.edit')}
      onSubmit={async (e) => {
        e.preventDefault();
        if (await run(() => api('PATCH', `/teams/${team.id}`, bodyOf(form)))) setOpen(false);
      }}
    >
      <SettingsFields value={form} onChange={setForm} />
      <div className="row">
        <button type="submit">{t('common.save')}</button>
        <button type="button" className="link" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function NewTeam({ tiers, tierName }: { tiers: string[]; tierName: (k: string) => string }) {
  const { t } = useT();
  const refresh = useRefresh();
  const empty: Settings = {
    name: '',
    email: '',
    chatWebhookUrl: '',
    period: 'weekly',
    handoverTime: '09:00',
    timeZone: 'Europe/Paris',
  };
  const [form, setForm] = useState<Settings>(empty);
  const [tier, setTier] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', '/teams', { ...bodyOf(form), tier: tier || tiers[0] });
      setForm(empty);
      await refresh();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="stack card wide" aria-labelledby="new-team-title" onSubmit={submit}>
      <h2 id="new-team-title">{t('teams.add')}</h2>
      <label>
        {t('common.tier')}
        <select value={tier || tiers[0] || ''} onChange={(e) => setTier(e.target.value)}>
          {tiers.map((k) => (
            <option key={k} value={k}>
              {tierName(k)}
            </option>
          ))}
        </select>
      </label>
      <SettingsFields value={form} onChange={setForm} />
      <ErrorMessage error={error} />
      <button type="submit">{t('teams.create')}</button>
    </form>
  );
}

function RemoveButton({ name, onClick }: { name: string; onClick(): void }) {
  const { t } = useT();
  return (
    <button type="button" className="link" onClick={onClick} aria-label={t('teams.remove', { name })}>
      ✕
    </button>
  );
}
