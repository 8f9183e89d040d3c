import type { Signer } from '../services/secret.js';

/**
 * E-mail threading. Every notification about an incident refers (In-Reply-To, References) to one
 * root Message-ID that names the incident and carries a signature, so a reply can be tied back to
 * its incident and a forged reference to another incident is recognised as such.
 */
const PURPOSE = 'mail-ref';

export function incidentReference(signer: Signer, incidentId: number, domain: string): string {
  return `<incident-${incidentId}.${signer.sign(PURPOSE, String(incidentId)).slice(0, 22)}@${domain}>`;
}

/** A unique Message-ID for one notification, under the incident's root reference. */
export function notificationMessageId(signer: Signer, incidentId: number, deliveryId: number, domain: string): string {
  return `<incident-${incidentId}.${signer.sign(PURPOSE, String(incidentId)).slice(0, 22)}.d${deliveryId}@${domain}>`;
}

/** The incident a reply refers to, from its In-Reply-To and References ids; only correctly signed ones count. */
export function incidentFromReferences(signer: Signer, ids: readonly string[]): number | undefined {
  for (const raw of ids) {
    const m = /^<?incident-(\d{1,15})\.([A-Za-z0-9_-]{22})(?:\.d\d+)?@[^>]+>?$/.exec(raw.trim());
    if (!m) continue;
    const id = Number(m[1]);
    if (signer.sign(PURPOSE, String(id)).slice(0, 22) === m[2]) return id;
  }
  return undefined;
}
