// The parts of oidc-provider 9 the single sign-on tests use (the package ships no types).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  interface Interaction {
    uid: string;
    grantId?: string;
    params: Record<string, string | undefined>;
    prompt: { name: 'login' | 'consent' | string; details: Record<string, unknown> };
    session?: { accountId?: string };
  }

  interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
  }

  interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  interface Configuration {
    clients?: Array<Record<string, unknown>>;
    findAccount?: (ctx: unknown, sub: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    features?: Record<string, { enabled: boolean; logoutSource?: (ctx: { body: unknown }, form: string) => void }>;
    interactions?: { url(ctx: unknown, interaction: Interaction): string };
    cookies?: { keys: string[] };
    jwks?: { keys: Array<Record<string, unknown>> };
    pkce?: { required(ctx: unknown, client: unknown): boolean };
    conformIdTokenClaims?: boolean;
    [key: string]: unknown;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
    readonly Grant: GrantConstructor;
  }
}
