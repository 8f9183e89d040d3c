import type { Services } from '../services/context.js';
import { tierContacts, type Contact, type TierTeamContacts } from './directory.js';

export type { Contact } from './directory.js';
/** One team of a tier: shared mailbox, chat room, who is on call, members and managers. */
export type TierTeam = TierTeamContacts;

/** Who works at a tier at a given instant: its teams, who is on call, who manages them. */
export interface ContactDirectory {
  tierContacts(tier: string, at: number): Promise<{ tier: string; teams: TierTeam[] }>;
}

/** The tier teams and on-call rotations; a tier without any team falls back to user accounts. */
export class TeamContactDirectory implements ContactDirectory {
  private readonly users: UserContactDirectory;
  constructor(private readonly s: Services) {
    this.users = new UserContactDirectory(s);
  }

  async tierContacts(tier: string, at: number): Promise<{ tier: string; teams: TierTeam[] }> {
    const found = await tierContacts(this.s, tier, at);
    return found.teams.length > 0 ? found : this.users.tierContacts(tier);
  }
}

/**
 * The directory drawn from user accounts alone, for organisations without teams and rotations:
 * one team per tier made of the agents who work at it, nobody on call, every manager managing it.
 */
export class UserContactDirectory implements ContactDirectory {
  constructor(private readonly s: Services) {}

  async tierContacts(tier: string): Promise<{ tier: string; teams: TierTeam[] }> {
    const rows = await this.s.store.db
      .selectFrom('users')
      .select(['id', 'email', 'display_name', 'locale', 'role', 'tiers'])
      .where('disabled_at', 'is', null)
      .where('role', 'in', ['agent', 'manager'])
      .orderBy('id')
      .execute();
    const contact = (r: (typeof rows)[number]): Contact => ({
      userId: Number(r.id),
      name: r.display_name,
      email: r.email,
      locale: r.locale === 'en' ? 'en' : 'fr',
    });
    const members = rows.filter((r) => r.role === 'agent' && (JSON.parse(r.tiers) as string[]).includes(tier)).map(contact);
    const managers = rows.filter((r) => r.role === 'manager').map(contact);
    return { tier, teams: [{ id: 0, name: tier, email: null, chatWebhookUrl: null, onCall: null, members, managers }] };
  }
}
