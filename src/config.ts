import { dirname, join, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseRoleMap, type RoleMapping } from './services/oidc-roles.js';

export type DatabaseConfig = { engine: 'sqlite'; path: string } | { engine: 'postgres'; url: string };

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Lifetime of API tokens from POST /api/v1/auth/token; 0 means they do not expire. */
  tokenTtlMs: number;
  /** Run the escalation worker inside the server process. */
  worker: boolean;
  workerPollMs: number;
  /** Instance secret; when absent one is generated and kept in the database. */
  secret: string | undefined;
  /** Base URL people reach this instance at, for links in messages. */
  publicUrl: string;
  /** Served over https (directly or behind a proxy): send HSTS and mark cookies Secure. */
  https: boolean;
  /** Largest accepted request header block, in bytes (431 beyond). */
  headerLimit: number;
  /** Sign-in attempts allowed per minute for one client address and e-mail (429 beyond). */
  loginRateLimit: number;
  /** Where attachment files are stored. */
  attachmentsDir: string;
  /** Largest accepted attachment, in bytes. */
  attachmentMaxBytes: number;
  /** Where logs go instead of standard output (tests read them). Not from the environment. */
  logStream?: { write(line: string): void };
  intake: IntakeConfig;
  /** How many days a vendor's signed link stays valid. */
  vendorLinkDays: number;
  /** Requests per minute one client address may make to the vendor page (429 beyond). */
  vendorPortalRateLimit: number;
  /** OpenID Connect sign-in; null when PALIER_OIDC_ISSUER is not set. */
  oidc: OidcConfig | null;
  notify: NotifyConfig;
}

export interface NotifyConfig {
  /** Outbound SMTP server (smtp:// or smtps://); null: no e-mail is sent. */
  smtpUrl: string | null;
  /** From address of notifications; default palier@<public host>. */
  mailFrom: string | null;
  /** CIDRs and host names outbound webhooks may reach although private (loopback, RFC 1918...). */
  webhookAllow: string[];
  /** Attempts before a delivery is kept as failed. */
  maxAttempts: number;
  /** First retry delay, doubled at each attempt up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Events of one incident for one recipient within this window go out as one message. */
  groupWindowMs: number;
  /** Messages about one incident one recipient gets per hour at most; the rest are dropped. */
  hourlyCap: number;
  pollMs: number;
  /** Time allowed for one webhook call or SMTP conversation. */
  timeoutMs: number;
}

export interface OidcConfig {
  /** The identity provider's issuer identifier (discovery document under /.well-known/). */
  issuer: string;
  clientId: string;
  /** Without one, Palier signs in as a public client (PKCE only). */
  clientSecret: string | undefined;
  scopes: string;
  /** `requester`: a verified e-mail Palier does not know gets a requester account; `off`: refused. */
  autoCreate: 'off' | 'requester';
  /** Roles and tiers from the provider's groups at each sign-in; absent: roles are given in Palier only. */
  roleSync?: OidcRoleSync | undefined;
  /** Signing out of Palier also signs out at the provider, when it offers an end_session_endpoint (default on). */
  singleLogout?: boolean | undefined;
}

export interface OidcRoleSync {
  /** The claim holding the person's groups (a dotted path is followed when no claim has that name). */
  groupsClaim: string;
  map: RoleMapping[];
  /** What someone whose groups map to nothing gets: requester, or no sign-in at all. */
  fallback: 'requester' | 'refuse';
}

export interface IntakeConfig {
  /** The built-in SMTP listener for e-mail integrations; null: not started. */
  smtpHost: string;
  smtpPort: number | null;
  smtpMaxBytes: number;
  /** How often messages left unprocessed are looked for (where the worker runs). */
  sweepMs: number;
  /** Poll the IMAP mailboxes of e-mail integrations (where the worker runs). */
  imap: boolean;
  /** How often the list of polled mailboxes is looked at; each is polled at its own pollSeconds. */
  imapTickMs?: number | undefined;
  /** Messages one integration may send per minute before getting 429. */
  ratePerMinute: number;
}

const envSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  PALIER_DB: z.string().default('./data/palier.db'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PALIER_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  PALIER_TOKEN_TTL_HOURS: z.coerce
    .number()
    .min(0)
    .default(24 * 30),
  PALIER_WORKER: z.enum(['on', 'off']).default('on'),
  PALIER_WORKER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  PALIER_SECRET: z.string().optional(),
  PALIER_PUBLIC_URL: z.url().optional(),
  PALIER_HTTPS: z.enum(['on', 'off']).default('off'),
  PALIER_HEADER_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  PALIER_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
  PALIER_ATTACHMENTS_DIR: z.string().optional(),
  PALIER_ATTACHMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  PALIER_SMTP_LISTEN: z
    .string()
    .regex(/^(?:(.+):)?(\d{1,5})$/, 'PALIER_SMTP_LISTEN must be PORT or HOST:PORT')
    .optional(),
  PALIER_SMTP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  PALIER_INTAKE_SWEEP_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  PALIER_IMAP_POLL: z.enum(['on', 'off']).default('on'),
  PALIER_INTAKE_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  PALIER_VENDOR_LINK_DAYS: z.coerce.number().min(0.001).max(365).default(14),
  PALIER_VENDOR_PORTAL_RATE_LIMIT: z.coerce.number().int().min(1).default(60),
  PALIER_OIDC_ISSUER: z
    .url()
    .refine((u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
    }, 'PALIER_OIDC_ISSUER must be an https:// URL (http:// only on this machine: localhost, 127.0.0.1, [::1])')
    .optional(),
  PALIER_OIDC_CLIENT_ID: z.string().min(1).optional(),
  PALIER_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  PALIER_OIDC_SCOPES: z
    .string()
    .regex(/(^|\s)openid(\s|$)/, 'PALIER_OIDC_SCOPES must include openid')
    .default('openid email profile'),
  PALIER_OIDC_AUTO_CREATE: z.enum(['off', 'requester']).default('off'),
  PALIER_OIDC_ROLE_SYNC: z.enum(['off', 'on-sign-in']).default('off'),
  PALIER_OIDC_GROUPS_CLAIM: z.string().trim().min(1).max(200).default('groups'),
  PALIER_OIDC_ROLE_MAP: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const parsed = parseRoleMap(text);
      if ('map' in parsed) return parsed.map;
      for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }),
  PALIER_OIDC_ROLE_FALLBACK: z.enum(['requester', 'refuse']).default('requester'),
  PALIER_OIDC_SINGLE_LOGOUT: z.enum(['on', 'off']).default('on'),
  PALIER_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'PALIER_SMTP_URL must be an smtp:// or smtps:// URL')
    .optional(),
  PALIER_MAIL_FROM: z.string().min(3).optional(),
  PALIER_WEBHOOK_ALLOW: z
    .string()
    .default('')
    .refine(
      (v) => v.split(',').every((e) => validAllowEntry(e.trim())),
      'PALIER_WEBHOOK_ALLOW must list CIDRs (10.0.0.0/8), addresses or host names, separated by commas',
    ),
  PALIER_NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  PALIER_NOTIFY_BACKOFF_SECONDS: z.coerce.number().min(0.01).max(3600).default(30),
  PALIER_NOTIFY_BACKOFF_MAX_SECONDS: z.coerce.number().min(0.01).max(86_400).default(3600),
  PALIER_NOTIFY_GROUP_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  PALIER_NOTIFY_HOURLY_CAP: z.coerce.number().int().min(1).max(1000).default(10),
  PALIER_NOTIFY_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
});

/** An entry of the webhook allow-list: empty (ignored), a CIDR, an address or a host name. */
function validAllowEntry(e: string): boolean {
  if (e === '') return true;
  if (e.includes('/')) return ipaddr.isValidCIDR(e);
  return ipaddr.isValid(e) || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(e);
}

/** Hosts an identity provider may be reached at over plain http (a provider run beside Palier). */
export const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Reads and validates the environment once; nothing else in Palier reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.PALIER_OIDC_ISSUER && !e.PALIER_OIDC_CLIENT_ID)
    throw new Error('Invalid configuration:\n  PALIER_OIDC_CLIENT_ID: required when PALIER_OIDC_ISSUER is set');
  // With nothing mapped, every sign-in would make its person a requester.
  if (e.PALIER_OIDC_ROLE_SYNC === 'on-sign-in' && e.PALIER_OIDC_ROLE_MAP.length === 0)
    throw new Error(
      'Invalid configuration:\n  PALIER_OIDC_ROLE_MAP: required when PALIER_OIDC_ROLE_SYNC=on-sign-in, e.g. palier-admins=admin,helpdesk=agent:L1',
    );
  return {
    host: e.HOST,
    port: e.PORT,
    database: e.DATABASE_URL ? { engine: 'postgres', url: e.DATABASE_URL } : { engine: 'sqlite', path: resolve(e.PALIER_DB) },
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.PALIER_BODY_LIMIT,
    tokenTtlMs: e.PALIER_TOKEN_TTL_HOURS * 3_600_000,
    worker: e.PALIER_WORKER === 'on',
    workerPollMs: e.PALIER_WORKER_POLL_MS,
    secret: e.PALIER_SECRET,
    publicUrl: e.PALIER_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    https: e.PALIER_HTTPS === 'on',
    headerLimit: e.PALIER_HEADER_LIMIT,
    loginRateLimit: e.PALIER_LOGIN_RATE_LIMIT,
    // Beside the SQLite file by default (./data/attachments).
    attachmentsDir: resolve(e.PALIER_ATTACHMENTS_DIR ?? join(dirname(resolve(e.PALIER_DB)), 'attachments')),
    attachmentMaxBytes: e.PALIER_ATTACHMENT_MAX_BYTES,
    intake: {
      smtpHost: /^(?:(.+):)?\d+$/.exec(e.PALIER_SMTP_LISTEN ?? '')?.[1] ?? e.HOST,
      smtpPort: e.PALIER_SMTP_LISTEN ? Number(/(\d+)$/.exec(e.PALIER_SMTP_LISTEN)![1]) : null,
      smtpMaxBytes: e.PALIER_SMTP_MAX_BYTES,
      sweepMs: e.PALIER_INTAKE_SWEEP_SECONDS * 1000,
      imap: e.PALIER_IMAP_POLL === 'on',
      ratePerMinute: e.PALIER_INTAKE_RATE_PER_MINUTE,
    },
    vendorLinkDays: e.PALIER_VENDOR_LINK_DAYS,
    vendorPortalRateLimit: e.PALIER_VENDOR_PORTAL_RATE_LIMIT,
    oidc: e.PALIER_OIDC_ISSUER
      ? {
          issuer: e.PALIER_OIDC_ISSUER,
          clientId: e.PALIER_OIDC_CLIENT_ID!,
          clientSecret: e.PALIER_OIDC_CLIENT_SECRET,
          scopes: e.PALIER_OIDC_SCOPES.trim().split(/\s+/).join(' '),
          autoCreate: e.PALIER_OIDC_AUTO_CREATE,
          roleSync:
            e.PALIER_OIDC_ROLE_SYNC === 'on-sign-in'
              ? { groupsClaim: e.PALIER_OIDC_GROUPS_CLAIM, map: e.PALIER_OIDC_ROLE_MAP, fallback: e.PALIER_OIDC_ROLE_FALLBACK }
              : undefined,
          singleLogout: e.PALIER_OIDC_SINGLE_LOGOUT === 'on',
        }
      : null,
    notify: {
      smtpUrl: e.PALIER_SMTP_URL ?? null,
      mailFrom: e.PALIER_MAIL_FROM ?? null,
      webhookAllow: e.PALIER_WEBHOOK_ALLOW.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      maxAttempts: e.PALIER_NOTIFY_MAX_ATTEMPTS,
      backoffBaseMs: e.PALIER_NOTIFY_BACKOFF_SECONDS * 1000,
      backoffMaxMs: e.PALIER_NOTIFY_BACKOFF_MAX_SECONDS * 1000,
      groupWindowMs: e.PALIER_NOTIFY_GROUP_SECONDS * 1000,
      hourlyCap: e.PALIER_NOTIFY_HOURLY_CAP,
      pollMs: e.PALIER_NOTIFY_POLL_MS,
      timeoutMs: 10_000,
    },
    ...overrides,
  };
}
