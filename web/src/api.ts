/** The public API, as the browser app uses it: same origin, session cookie, JSON. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Requests public/boot.js started before the app loaded, by path; each is used once. */
const boot = (globalThis as { palierBoot?: Record<string, Promise<Response> | undefined> }).palierBoot ?? {};

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  const early = method === 'GET' ? boot[path] : undefined;
  if (early) boot[path] = undefined;
  try {
    res = early
      ? await early
      : await fetch(`/api/v1${path}`, {
          method,
          credentials: 'same-origin',
          // Cookie-authenticated writes must say they come from Palier's own pages.
          headers: { 'x-requested-with': 'palier', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (
      json as { error?: { code?: string; message?: string; details?: Array<{ path: string; message: string }> } } | undefined
    )?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? res.statusText, e?.details ?? []);
  }
  return json as T;
}

/** Sends one file to an incident as multipart/form-data; errors come back as for `api`. */
export async function uploadAttachment(incidentId: number, file: File): Promise<unknown> {
  const form = new FormData();
  form.append('file', file, file.name);
  let res: Response;
  try {
    res = await fetch(`/api/v1/incidents/${incidentId}/attachments`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-requested-with': 'palier' },
      body: form,
    });
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  const json = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!res.ok) throw new ApiError(res.status, json?.error?.code ?? `http_${res.status}`, json?.error?.message ?? res.statusText);
  return json;
}

export type Role = 'admin' | 'manager' | 'agent' | 'requester' | 'vendor';
export type Locale = 'fr' | 'en';
export interface Localized {
  fr: string;
  en: string;
}

export interface User {
  id: number;
  email: string;
  role: Role;
  displayName: string;
  locale: Locale;
  tiers: string[];
  disabled?: boolean;
  createdAt?: string;
}

export type Status = 'new' | 'acknowledged' | 'in_progress' | 'pending' | 'resolved' | 'closed';
export const OPEN_STATUSES: Status[] = ['new', 'acknowledged', 'in_progress', 'pending'];
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;

export interface Incident {
  id: number;
  title: string;
  description: string;
  category: string;
  impact: number;
  urgency: number;
  priority: string;
  status: Status;
  pendingReason: 'requester' | 'vendor' | null;
  tier: string;
  requesterId: number;
  assigneeId: number | null;
  matrixVersion: number;
  reopenCount: number;
  escalationCount: number;
  resolution: string | null;
  tierEnteredAt: string;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  closedAt: string | null;
  vendorId: number | null;
  vendorTicket: string | null;
  vendorStatus: 'engaged' | 'acknowledged' | 'done' | null;
}

export interface QueueItem extends Incident {
  breachAt: string | null;
}

export interface TimelineEvent {
  seq: number;
  at: string;
  kind: string;
  actorId: number | null;
  fromTier: string | null;
  toTier: string | null;
  data: Record<string, unknown>;
}

export interface IncidentDetail extends Incident {
  checklist: Array<{ index: number; action: Localized; checked: boolean; mandatory: boolean }>;
  timeline: TimelineEvent[];
  clocks: Array<{
    id: string;
    kind: string;
    tier: string | null;
    target: string;
    remainingMs: number;
    paused: boolean;
    stopped: boolean;
    deadline: string | null;
    breached: boolean;
  }>;
  deadlines: Array<{
    kind: 'acknowledge' | 'resolve' | 'vendor';
    tier: string | null;
    clock: string;
    target: string;
    due: string;
    breached: boolean;
  }>;
  nextEscalation: {
    at: string;
    toTier: string | null;
    action: 'escalate' | 'notify' | 'both';
    clock: string;
    reason: string;
  } | null;
  tierTime: Array<{ tier: string; enteredAt: string; leftAt: string | null; businessMs: number }>;
}

export interface Matrix {
  version: number;
  createdAt: string;
  createdBy: number | null;
  comment?: string | null;
  tiers: Array<{ key: string; name: Localized; description: Localized }>;
  categories: Array<{
    key: string;
    name: Localized;
    description?: Localized;
    confidential?: boolean | { tiers: string[]; users: number[] };
    clocks?: Array<{ key: string; name: Localized; duration: string; calendar?: string }>;
  }>;
  cells: Array<{ category: string; tier: string; actions: Localized[]; mandatory?: number[] }>;
  sla: Array<{ tier: string; priority: string; category?: string; acknowledge: string; resolve: string; calendar?: string }>;
  [more: string]: unknown;
}

export interface MatrixChange {
  kind: 'added' | 'removed' | 'changed';
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface TeamPerson {
  userId: number;
  name: string;
  email: string;
}

export interface Team {
  id: number;
  name: string;
  tier: string;
  email: string | null;
  chatWebhookUrl: string | null;
  rotation: { startsAt: string; period: 'daily' | 'weekly'; handoverTime: string; timeZone: string };
  members: Array<TeamPerson & { role: 'member' | 'manager' }>;
  overrides: Array<{ id: number; userId: number; name: string | null; startsAt: string; endsAt: string; reason: string | null }>;
  onCall: (TeamPerson & { source: 'rotation' | 'override'; until: string | null }) | null;
  nextHandover: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a vendor's signed link shows: the incident, and only the vendor's part of its history. */
export interface VendorPortal {
  incident: {
    id: number;
    title: string;
    description: string;
    category: string;
    categoryName: Localized | null;
    priority: string;
    status: Status;
    vendorStatus: 'engaged' | 'acknowledged' | 'done' | null;
    vendorTicket: string | null;
  };
  vendor: { id: number; name: string; locale: Locale };
  timeline: Array<{
    seq: number;
    at: string;
    kind: 'vendor_engaged' | 'vendor_acknowledged' | 'vendor_updated' | 'vendor_done';
    note: string | null;
    ticket: string | null;
  }>;
  expiresAt: string;
}
