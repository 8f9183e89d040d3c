import type { Services } from '../services/context.js';
import { rosters } from '../services/team.service.js';
import type { User } from '../store/user.repository.js';

/** A person a notification can reach, in their language. */
export interface Contact {
  userId: number;
  name: string;
  email: string;
  locale: 'fr' | 'en';
}

export interface TierTeamContacts {
  id: number;
  name: string;
  /** The team's shared mailbox. */
  email: string | null;
  chatWebhookUrl: string | null;
  /** Who is on call at the instant asked (an override, else the rotation); null if nobody. */
  onCall: Contact | null;
  /** Members in rotation order. */
  members: Contact[];
  managers: Contact[];
}

export interface TierContacts {
  tier: string;
  teams: TierTeamContacts[];
}

const contactOf = (u: User): Contact => ({ userId: u.id, name: u.displayName, email: u.email, locale: u.locale });

/**
 * Who a notification about a tier reaches at instant `at`: each team of that tier with its shared
 * address, chat webhook, the person on call, its members and its managers. Disabled users are left
 * out; a tier without teams gives an empty list.
 */
export async function tierContacts(services: Services, tier: string, at: number): Promise<TierContacts> {
  const teams = await rosters(services, at, { tier });
  return {
    tier,
    teams: teams.map((r) => ({
      id: r.team.id,
      name: r.team.name,
      email: r.team.email,
      chatWebhookUrl: r.team.chatWebhookUrl,
      onCall: r.onCall && contactOf(r.onCall.user),
      members: r.members.filter((m) => m.role === 'member').map((m) => contactOf(m.user)),
      managers: r.members.filter((m) => m.role === 'manager').map((m) => contactOf(m.user)),
    })),
  };
}
