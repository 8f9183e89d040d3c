import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPalier, type Palier } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import type { Role } from '../../src/domain/policy.js';
import { addUser } from '../../src/services/auth.service.js';
import { freshDatabase, type EngineName } from './engines.js';

export interface TestUser {
  id: number;
  email: string;
  token: string;
}

export interface TestServer {
  url: string;
  palier: Palier;
  config: Config;
  /** Creates a user of that role and signs them in over the API. */
  user(role: Role, opts?: { tiers?: string[]; email?: string; locale?: 'fr' | 'en'; vendorId?: number }): Promise<TestUser>;
  /** Calls the API; `as` signs the request with that user's token. JSON in, JSON (or text) out. */
  api(method: string, path: string, opts?: { as?: TestUser; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<ApiResponse>;
  /** Counts rows of a table, to show that a refused request wrote nothing. */
  count(
    table: 'incidents' | 'incident_events' | 'matrix_versions' | 'users' | 'api_tokens' | 'outbox' | 'escalation_schedule' | IntakeTable,
  ): Promise<number>;
  close(): Promise<void>;
}

/** Tables of inbound integrations, counted to show a refused message stored nothing. */
export type IntakeTable = 'integrations' | 'inbound_messages' | 'intake_correlations';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

let counter = 0;
/** The password of every user made by `t.user` (browser tests type it into the sign-in form). */
export const PASSWORD = 'test-password-123';

export async function startServer(engine: EngineName, opts: { clock?: Clock; config?: Partial<Config> } = {}): Promise<TestServer> {
  const db = await freshDatabase(engine);
  // The worker runs only where a test asks for it; others drive it with worker.runOnce(now).
  const files = mkdtempSync(join(tmpdir(), 'palier-files-'));
  const config = loadConfig(
    { LOG_LEVEL: 'silent', PALIER_WORKER: 'off' },
    { database: db.config, port: 0, host: '127.0.0.1', attachmentsDir: files, ...opts.config },
  );
  const palier = await createPalier(config, opts.clock);
  // Port 0 unless a test needs to know the address in advance (e.g. a redirect URI registered elsewhere).
  await palier.server.listen({ host: '127.0.0.1', port: config.port });
  const address = palier.server.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const api: TestServer['api'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.as) headers.authorization = `Bearer ${o.as.token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };

  return {
    url,
    palier,
    config,
    api,
    async user(role, o = {}) {
      const email = o.email ?? `${role}${++counter}@example.test`;
      const tiers = o.tiers ?? (role === 'agent' ? ['L1'] : []);
      const created = await addUser(palier.services, {
        email,
        password: PASSWORD,
        role,
        tiers,
        locale: o.locale,
        vendorId: o.vendorId,
      });
      const res = await api('POST', '/api/v1/auth/token', { body: { email, password: PASSWORD } });
      if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { id: created.id, email, token: res.body.token as string };
    },
    async count(table) {
      const row = await palier.services.store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async close() {
      await palier.close();
      await db.drop();
      rmSync(files, { recursive: true, force: true });
    },
  };
}
