type Callback = (error: Error | null, result: { current: number; ttl: number }) => void;

/**
 * An in-memory store for @fastify/rate-limit with fixed windows. Unlike the plugin's own, routes
 * that name the same `groupId` share one set of counters: signing in by token or by session
 * draws on the same allowance.
 */
export class GroupedRateLimitStore {
  private readonly counters = new Map<string, { current: number; start: number }>();

  constructor(
    _options?: unknown,
    private readonly groups = new Map<string, GroupedRateLimitStore>(),
  ) {}

  incr(key: string, cb: Callback, timeWindow: number): void {
    const now = Date.now();
    let entry = this.counters.get(key);
    if (!entry || entry.start + timeWindow <= now) {
      if (this.counters.size >= 50_000) this.prune(now, timeWindow);
      entry = { current: 0, start: now };
      this.counters.set(key, entry);
    }
    entry.current++;
    cb(null, { current: entry.current, ttl: entry.start + timeWindow - now });
  }

  read(key: string, cb: Callback, timeWindow: number): void {
    const now = Date.now();
    const entry = this.counters.get(key);
    if (!entry || entry.start + timeWindow <= now) return cb(null, { current: 0, ttl: 0 });
    cb(null, { current: entry.current, ttl: entry.start + timeWindow - now });
  }

  child(routeOptions: object): GroupedRateLimitStore {
    const group = (routeOptions as { groupId?: unknown }).groupId;
    if (typeof group !== 'string') return new GroupedRateLimitStore(undefined, this.groups);
    let store = this.groups.get(group);
    if (!store) this.groups.set(group, (store = new GroupedRateLimitStore(undefined, this.groups)));
    return store;
  }

  private prune(now: number, timeWindow: number) {
    for (const [key, entry] of this.counters) if (entry.start + timeWindow <= now) this.counters.delete(key);
    if (this.counters.size >= 50_000) this.counters.clear();
  }
}
