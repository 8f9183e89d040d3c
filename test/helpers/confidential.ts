import type { TestServer, TestUser } from './server.js';

/**
 * Names a staff member in every confidential category of the current matrix (a new version), so
 * that they see those incidents in reports and simulations as a data protection officer would.
 */
export async function nameInConfidentialCategories(t: TestServer, user: TestUser): Promise<void> {
  const admin = await t.user('admin');
  const matrix = (await t.api('GET', '/api/v1/matrix', { as: admin })).body as {
    categories: Array<{ confidential?: { tiers: string[]; users: number[] } | boolean }>;
  };
  for (const c of matrix.categories)
    if (typeof c.confidential === 'object') c.confidential.users.push(user.id);
    else if (c.confidential === true) c.confidential = { tiers: [], users: [user.id] };
  const res = await t.api('PUT', '/api/v1/matrix', {
    as: admin,
    body: { ...matrix, comment: 'Name the data protection officer' },
  });
  if (res.status !== 200) throw new Error(`could not name user ${user.id}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A requester reports an incident of that category over the API; returns its id. */
export async function reportIncident(t: TestServer, requester: TestUser, title: string, category: string): Promise<number> {
  const res = await t.api('POST', '/api/v1/incidents', {
    as: requester,
    body: { title, description: 'Signalé par le service client', category, impact: 1, urgency: 1 },
  });
  if (res.status !== 201) throw new Error(`could not report ${title}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: number }).id;
}
