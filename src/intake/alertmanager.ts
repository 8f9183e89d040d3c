import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { invalid, issuePath } from '../domain/errors.js';
import type { Services } from '../services/context.js';
import type { InboundMessageRow } from '../store/intake.repository.js';
import type { Database } from '../store/schema.js';
import { act, linkedIncident, openLinkedIncident } from './correlate.js';
import { decodeBody, integrationActor, type Handler, type Outcome } from './message.js';
import type { Integration } from './integrations.js';
import { classify } from './rules.js';

/**
 * Prometheus Alertmanager's webhook body, version 4 (Grafana's alerting webhook has the same shape
 * with a few more fields, which are kept in the stored body and otherwise ignored).
 */
const labels = z.record(z.string(), z.string());
const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string(),
  endsAt: z.string(),
  generatorURL: z.string().default(''),
  // Alertmanager before 0.19 sent no fingerprint; one is then derived from the labels.
  fingerprint: z.string().min(1).max(200).optional(),
});
export const alertmanagerSchema = z.looseObject({
  version: z.string(),
  groupKey: z.string().min(1).max(10_000),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.string(),
  alerts: z.array(alertSchema).min(1).max(5000),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerSchema>;
type Alert = z.infer<typeof alertSchema>;

/** Parses and checks a body; bad JSON or a body of another shape is refused with the path of each problem. */
export function parseAlertmanager(body: string): AlertmanagerPayload {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw invalid('malformed_json', 'The request body is not valid JSON');
  }
  const parsed = alertmanagerSchema.safeParse(json);
  if (!parsed.success)
    throw invalid(
      'invalid_alertmanager_payload',
      'The body is not an Alertmanager webhook payload (version 4)',
      parsed.error.issues.slice(0, 20).map((i) => ({ path: issuePath(i.path) || '(body)', message: i.message })),
    );
  return parsed.data;
}

/** Alertmanager's own fingerprint, or a stable one from the sorted labels when it sent none. */
export function fingerprintOf(alert: Alert): string {
  if (alert.fingerprint) return alert.fingerprint;
  const sorted = Object.keys(alert.labels)
    .sort()
    .map((k) => `${k}=${alert.labels[k]}`)
    .join('\u0000');
  return `labels:${createHash('sha256').update(sorted).digest('hex').slice(0, 16)}`;
}

function describeAlert(alert: Alert, externalURL: string): string {
  const lines = [alert.annotations.description ?? alert.annotations.message ?? ''];
  lines.push('', 'Labels:', ...Object.entries(alert.labels).map(([k, v]) => `  ${k}=${v}`));
  lines.push(`Started: ${alert.startsAt}`);
  if (alert.annotations.runbook_url) lines.push(`Runbook: ${alert.annotations.runbook_url}`);
  if (alert.generatorURL) lines.push(`Source: ${alert.generatorURL}`);
  if (externalURL) lines.push(`Alertmanager: ${externalURL}`);
  return lines.join('\n').trim();
}

const titleOf = (annotations: Record<string, string>, labelSet: Record<string, string>) =>
  annotations.summary ?? annotations.title ?? labelSet.alertname ?? 'Alert';

const endedAt = (alert: Alert) => (alert.endsAt.startsWith('0001-01-01') ? 'now' : alert.endsAt);

export const alertmanagerHandler: Handler<AlertmanagerPayload> = {
  prepare: (message: InboundMessageRow) => parseAlertmanager(decodeBody(message).toString('utf8')),
  apply: (s, trx, integration, _message, payload) =>
    integration.config.keyBy === 'groupKey'
      ? applyByGroup(s, trx, integration, payload)
      : applyByFingerprint(s, trx, integration, payload),
};

/** One incident per alert: a repeat of a firing alert adds nothing, a resolved one is noted (and resolves if configured). */
async function applyByFingerprint(
  s: Services,
  trx: Transaction<Database>,
  integration: Integration,
  payload: AlertmanagerPayload,
): Promise<Outcome> {
  const actor = integrationActor(integration);
  const opened: number[] = [];
  const updated: number[] = [];
  const resolved: number[] = [];
  const unchanged: string[] = [];
  const ignored: string[] = [];
  for (const alert of payload.alerts) {
    const fingerprint = fingerprintOf(alert);
    const key = `fp:${fingerprint}`;
    const linked = await linkedIncident(s, trx, integration.id, key);
    if (alert.status === 'firing') {
      if (!linked) {
        const incident = await openLinkedIncident(s, trx, integration, {
          actorId: actor.id,
          requesterId: actor.id,
          title: titleOf(alert.annotations, alert.labels),
          description: describeAlert(alert, payload.externalURL),
          classification: classify(integration.config, { ...payload.commonLabels, ...alert.labels }),
          key,
          state: 'firing',
        });
        opened.push(incident.id);
      } else if (linked.correlation.state === 'firing') {
        unchanged.push(fingerprint);
      } else {
        await act(s, trx, actor, linked.incident.id, {
          type: 'comment',
          body: `Alert ${fingerprint} is firing again (since ${alert.startsAt}).`,
        });
        await s.intake.updateCorrelation(trx, linked.correlation.id, { state: 'firing', at: s.clock.now() });
        updated.push(linked.incident.id);
      }
    } else if (!linked) {
      ignored.push(fingerprint); // never seen, or its incident is already resolved
    } else if (linked.correlation.state === 'resolved') {
      unchanged.push(fingerprint);
    } else {
      await resolveLinked(
        s,
        trx,
        integration,
        linked.incident.id,
        linked.correlation.id,
        `Alert ${fingerprint} resolved (ended ${endedAt(alert)}).`,
      );
      (integration.config.resolveIncidents ? resolved : updated).push(linked.incident.id);
    }
  }
  return {
    status: 'processed',
    incidentId: opened[0] ?? updated[0] ?? resolved[0] ?? null,
    detail: { opened, updated, resolved, unchanged, ignored },
  };
}

/** Notes the resolution on the timeline, or resolves the incident when the integration says so. */
async function resolveLinked(
  s: Services,
  trx: Transaction<Database>,
  integration: Integration,
  incidentId: number,
  correlationId: number,
  note: string,
) {
  const actor = integrationActor(integration);
  if (integration.config.resolveIncidents) {
    await act(s, trx, actor, incidentId, { type: 'resolve', resolution: note });
    await s.intake.updateCorrelation(trx, correlationId, { state: 'resolved', active: false, at: s.clock.now() });
  } else {
    await act(s, trx, actor, incidentId, { type: 'comment', body: note });
    await s.intake.updateCorrelation(trx, correlationId, { state: 'resolved', at: s.clock.now() });
  }
}

/** One incident per alert group: alerts joining or leaving the group are noted on it. */
async function applyByGroup(
  s: Services,
  trx: Transaction<Database>,
  integration: Integration,
  payload: AlertmanagerPayload,
): Promise<Outcome> {
  const actor = integrationActor(integration);
  const key = `gk:${payload.groupKey}`;
  const firing = payload.alerts.filter((a) => a.status === 'firing').map(fingerprintOf);
  const linked = await linkedIncident(s, trx, integration.id, key);
  if (!linked) {
    if (payload.status === 'resolved') return { status: 'processed', incidentId: null, detail: { ignored: [payload.groupKey] } };
    const first = payload.alerts.find((a) => a.status === 'firing')!;
    const incident = await openLinkedIncident(s, trx, integration, {
      actorId: actor.id,
      requesterId: actor.id,
      title: titleOf(payload.commonAnnotations, { ...payload.groupLabels, ...payload.commonLabels }),
      description: [
        payload.commonAnnotations.description ?? '',
        `Group: ${Object.entries(payload.groupLabels)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
        '',
        ...payload.alerts
          .filter((a) => a.status === 'firing')
          .map((a) => `- ${titleOf(a.annotations, a.labels)}\n${describeAlert(a, '').replace(/^/gm, '  ')}`),
        payload.externalURL ? `Alertmanager: ${payload.externalURL}` : '',
      ]
        .join('\n')
        .trim(),
      classification: classify(integration.config, { ...payload.commonLabels, ...first.labels }),
      key,
      state: 'firing',
      detail: firing,
    });
    return { status: 'processed', incidentId: incident.id, detail: { opened: [incident.id] } };
  }
  const id = linked.incident.id;
  const before = new Set(JSON.parse(linked.correlation.detail ?? '[]') as string[]);
  if (payload.status === 'resolved') {
    if (linked.correlation.state === 'resolved')
      return { status: 'processed', incidentId: id, detail: { unchanged: [payload.groupKey] } };
    await resolveLinked(s, trx, integration, id, linked.correlation.id, `All alerts of the group resolved.`);
    await s.intake.updateCorrelation(trx, linked.correlation.id, { detail: [], at: s.clock.now() });
    return {
      status: 'processed',
      incidentId: id,
      detail: integration.config.resolveIncidents ? { resolved: [id] } : { updated: [id] },
    };
  }
  const joined = firing.filter((f) => !before.has(f));
  const left = [...before].filter((f) => !firing.includes(f));
  const again = linked.correlation.state === 'resolved';
  if (!joined.length && !left.length && !again)
    return { status: 'processed', incidentId: id, detail: { unchanged: [payload.groupKey] } };
  const titles = (fps: string[]) =>
    fps.map((f) => {
      const alert = payload.alerts.find((a) => fingerprintOf(a) === f);
      return alert ? `${titleOf(alert.annotations, alert.labels)} (${f})` : f;
    });
  const lines = [
    again ? 'The alert group is firing again.' : '',
    joined.length ? `Now firing: ${titles(joined).join('; ')}` : '',
    left.length ? `No longer firing: ${titles(left).join('; ')}` : '',
  ].filter(Boolean);
  await act(s, trx, actor, id, { type: 'comment', body: lines.join('\n') });
  await s.intake.updateCorrelation(trx, linked.correlation.id, { state: 'firing', detail: firing, at: s.clock.now() });
  return { status: 'processed', incidentId: id, detail: { updated: [id] } };
}
