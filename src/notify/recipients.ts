import type { Services } from '../services/context.js';

/** A person Palier writes to, in their language. */
export interface Contact {
  userId: number;
  name: string;
  email: string;
  locale: 'fr' | 'en';
}

export interface TierTeam {
  id: number;
  name: string;
  /** The team's shared mailbox, if it has one. */
  email: string | null;
  chatWebhookUrl: string | null;
  onCall: Contact | null;
  members: Contact[];
  managers: Contact[];
}

/** Who works at a tier at a given instant: its teams, who is on call, who manages them. */
export interface ContactDirectory {
  tierContacts(tier: string, at: number): Promise<{ tier: string; teams: TierTeam[] }>;
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
