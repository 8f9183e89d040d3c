import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentFromReferences, incidentReference } from '../../src/notify/mail-references.js';
import { checkVendorToken, vendorToken } from '../../src/notify/vendor-link.js';
import { loadSecret, Signer } from '../../src/services/secret.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { ENGINES, freshDatabase, type EngineName, type FreshDatabase } from '../helpers/engines.js';

describe.each(ENGINES)('instance secret on %s', (engine: EngineName) => {
  let fresh: FreshDatabase;
  let store: Store;
  beforeAll(async () => {
    fresh = await freshDatabase(engine);
    store = openStore(fresh.config);
    await migrateToLatest(store);
  });
  afterAll(async () => {
    await store.close();
    await fresh.drop();
  });

  it('is generated once, at random, and then shared by every process of the database', async () => {
    const first = await loadSecret(store.db, undefined);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(await loadSecret(store.db, undefined)).toBe(first);
  });

  it('takes a configured secret, and refuses an empty, default or short one', async () => {
    const strong = 'x'.repeat(20) + 'Q7m2v9Lk3pZ8wT4n';
    expect(await loadSecret(store.db, strong)).toBe(strong);
    for (const weak of ['', 'changeme', 'secret', 'short-but-random-7f3a'])
      await expect(loadSecret(store.db, weak)).rejects.toThrow(/PALIER_SECRET/);
  });
});

describe('e-mail references', () => {
  const signer = new Signer('a'.repeat(43));

  it('tie a reply to its incident through In-Reply-To or References', () => {
    const ref = incidentReference(signer, 42, 'palier.example');
    expect(incidentFromReferences(signer, ['<unrelated@mail.example>', ref])).toBe(42);
  });

  it('ignore references signed with another secret or pointed at another incident', () => {
    const forged = incidentReference(new Signer('b'.repeat(43)), 42, 'palier.example');
    const moved = incidentReference(signer, 42, 'palier.example').replace('incident-42.', 'incident-43.');
    expect(incidentFromReferences(signer, [forged, moved])).toBeUndefined();
  });
});

describe('vendor links', () => {
  const signer = new Signer('a'.repeat(43));
  const grant = { incidentId: 7, vendorId: 3, expiresAt: Date.UTC(2026, 0, 2) };

  it('open for the incident and vendor they name, until they expire', () => {
    const token = vendorToken(signer, grant);
    expect(checkVendorToken(signer, token, Date.UTC(2026, 0, 1))).toEqual({ ok: true, grant });
    expect(checkVendorToken(signer, token, grant.expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse a token altered, signed with another secret, or not a token at all', () => {
    const token = vendorToken(signer, grant);
    const otherIncident = token.replace(/^7\./, '8.');
    const farExpiry = token.replace(/^(7\.3\.)[0-9a-z]+/, '$1zzzzzzzz');
    const now = Date.UTC(2026, 0, 1);
    expect(checkVendorToken(signer, otherIncident, now)).toEqual({ ok: false, reason: 'forged' });
    expect(checkVendorToken(signer, farExpiry, now)).toEqual({ ok: false, reason: 'forged' });
    expect(checkVendorToken(new Signer('b'.repeat(43)), token, now)).toEqual({ ok: false, reason: 'forged' });
    expect(checkVendorToken(signer, '../../etc/passwd', now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
