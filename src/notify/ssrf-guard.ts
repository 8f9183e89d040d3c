import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch } from 'undici';
import { invalid } from '../domain/errors.js';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface CheckedTarget {
  url: URL;
  /** The address checked, which the request must connect to (a second lookup could answer otherwise). */
  address: string;
  family: 4 | 6;
}

/**
 * Keeps outbound webhooks away from the machine and its network: loopback, link-local (cloud
 * metadata at 169.254.169.254), private, unique-local, unspecified, multicast and other special
 * ranges are refused unless an administrator allow-listed the CIDR or the host name.
 */
export class WebhookGuard {
  private readonly cidrs: Cidr[] = [];
  private readonly hosts = new Set<string>();

  constructor(allow: readonly string[]) {
    for (const entry of allow) {
      const e = entry.trim().toLowerCase();
      if (!e) continue;
      if (e.includes('/')) this.cidrs.push(ipaddr.parseCIDR(e));
      else if (ipaddr.isValid(e)) {
        const ip = ipaddr.process(e);
        this.cidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      } else this.hosts.add(e);
    }
  }

  private allowedAddress(address: string): boolean {
    const ip = ipaddr.process(address);
    if (ip.range() === 'unicast') return true;
    return this.cidrs.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
  }

  /** Resolves the URL's host and refuses it (400 webhook_target_refused) if any address is off limits. */
  async check(target: string): Promise<CheckedTarget> {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw invalid('invalid_url', 'The target is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('invalid_url', 'The target must be an http(s) URL');
    if (url.username || url.password) throw invalid('invalid_url', 'The target URL must not carry credentials');
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    let addresses: LookupAddress[];
    if (ipaddr.isValid(host)) addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
    else {
      try {
        addresses = await lookup(host, { all: true, verbatim: true });
      } catch {
        throw invalid('webhook_target_unresolved', `The host ${host} does not resolve`);
      }
    }
    const named = this.hosts.has(host);
    const refused = addresses.find((a) => !named && !this.allowedAddress(a.address));
    if (refused || addresses.length === 0)
      throw invalid(
        'webhook_target_refused',
        `The host ${host} is a loopback, link-local, private or otherwise reserved address (${refused?.address ?? 'none'}); an administrator may allow it with PALIER_WEBHOOK_ALLOW`,
      );
    const first = addresses[0]!;
    return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /** POSTs a JSON body to a checked target, connecting to the checked address only, never following redirects. */
  async post(
    target: CheckedTarget,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    const { address, family } = target;
    const agent = new Agent({
      connect: {
        lookup: (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          options?.all ? cb(null, [{ address, family }]) : cb(null, address, family),
      } as unknown as Agent.Options['connect'],
    });
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': 'Palier', ...headers },
        redirect: 'manual',
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = (await res.text()).slice(0, 500);
      return { status: res.status, text };
    } finally {
      await agent.close();
    }
  }
}
