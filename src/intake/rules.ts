import { z } from 'zod';
import type { Level } from '../domain/priority.js';

/** The three kinds of inbound integration. */
export const INTEGRATION_KINDS = ['alertmanager', 'events-v2', 'email'] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];

const level = z.union([z.literal(1), z.literal(2), z.literal(3)]);

/**
 * A label rule: when every label named in `match` has one of the values given, the rule's
 * category, impact and urgency apply. Values are compared exactly (no patterns, so a rule can
 * never be slow); the first matching rule wins.
 */
export const labelRuleSchema = z
  .object({
    match: z.record(z.string().min(1).max(100), z.union([z.string().max(500), z.array(z.string().max(500)).min(1).max(50)])),
    category: z.string().min(1).max(100).optional(),
    impact: level.optional(),
    urgency: level.optional(),
  })
  .strict();
export type LabelRule = z.infer<typeof labelRuleSchema>;

export const imapSchema = z
  .object({
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(993),
    secure: z.boolean().default(true),
    user: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
    mailbox: z.string().min(1).max(200).default('INBOX'),
    pollSeconds: z.number().int().min(10).max(3600).default(60),
  })
  .strict();
export type ImapSettings = z.infer<typeof imapSchema>;

/** What an integration does with what it receives; stored as JSON with the integration. */
export interface IntegrationConfig {
  /** Category of incidents no rule places elsewhere. */
  category: string;
  impact: Level;
  urgency: Level;
  rules: LabelRule[];
  /** Alertmanager: one incident per alert (fingerprint) or per alert group (groupKey). */
  keyBy: 'fingerprint' | 'groupKey';
  /** Alertmanager: a resolved alert resolves its incident (otherwise it is only noted on the timeline). */
  resolveIncidents: boolean;
  /** E-mail: mailbox polled over IMAP, besides the built-in SMTP listener. */
  imap: ImapSettings | null;
}

export interface Classification {
  category: string;
  impact: Level;
  urgency: Level;
  /** Index of the rule that matched, if one did. */
  rule: number | null;
}

/**
 * Usual monitoring severities mapped to impact and urgency, used when no rule matches.
 * critical is P1, error P2, warning P3, info P5 with the default priority table.
 */
const SEVERITY: Record<string, { impact: Level; urgency: Level }> = {
  critical: { impact: 1, urgency: 1 },
  page: { impact: 1, urgency: 1 },
  error: { impact: 2, urgency: 1 },
  major: { impact: 2, urgency: 1 },
  warning: { impact: 2, urgency: 2 },
  minor: { impact: 2, urgency: 2 },
  info: { impact: 3, urgency: 3 },
};

/** Category, impact and urgency for an alert with these labels: first matching rule, then severity, then defaults. */
export function classify(config: IntegrationConfig, labels: Record<string, string>): Classification {
  const index = config.rules.findIndex((r) =>
    Object.entries(r.match).every(([name, wanted]) => {
      const value = labels[name];
      return value !== undefined && (Array.isArray(wanted) ? wanted.includes(value) : wanted === value);
    }),
  );
  const rule = index >= 0 ? config.rules[index] : undefined;
  const severity = SEVERITY[(labels.severity ?? '').toLowerCase()];
  return {
    category: rule?.category ?? config.category,
    impact: rule?.impact ?? severity?.impact ?? config.impact,
    urgency: rule?.urgency ?? severity?.urgency ?? config.urgency,
    rule: index >= 0 ? index : null,
  };
}
