import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Instants are stored as epoch milliseconds (bigint), JSON as text: identical on both engines. */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  matrix_versions: MatrixVersionsTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  escalation_schedule: EscalationScheduleTable;
  outbox: OutboxTable;
  settings: SettingsTable;
  attachments: AttachmentsTable;
  integrations: IntegrationsTable;
  inbound_messages: InboundMessagesTable;
  intake_correlations: IntakeCorrelationsTable;
  vendors: VendorsTable;
  notification_channels: NotificationChannelsTable;
  deliveries: DeliveriesTable;
  incident_figures: IncidentFiguresTable;
  incident_stint_figures: IncidentStintFiguresTable;
  vendor_engagement_figures: VendorEngagementFiguresTable;
  report_incidents_daily: ReportIncidentsDailyTable;
  report_stints_daily: ReportStintsDailyTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  oncall_overrides: OncallOverridesTable;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface AttachmentsTable {
  id: Generated<number>;
  incident_id: number;
  /** The uploader's file name, cleaned; only ever shown, never used as a path. */
  file_name: string;
  /** Random name of the stored file. */
  storage_name: string;
  /** Detected from the content, not taken from the upload. */
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: number;
  created_at: number;
}

export interface EscalationScheduleTable {
  incident_id: number;
  /** When the worker must look at the incident next (a warning, a missed target, a reminder). */
  due_at: number;
  /** The deadline it is for: due incidents are claimed in this order. */
  order_at: number;
}

export interface OutboxTable {
  id: Generated<number>;
  idempotency_key: string;
  incident_id: number | null;
  event_seq: number | null;
  topic: string;
  payload: string; // JSON
  status: string; // 'pending' | 'delivered' | 'failed'
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  last_error: string | null;
}

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string | null;
  role: string;
  display_name: string;
  locale: string;
  tiers: string; // JSON array of tier keys
  disabled_at: number | null;
  created_at: number;
  /** The vendor a vendor contact (role vendor) speaks for. */
  vendor_id: number | null;
}

export interface VendorsTable {
  id: Generated<number>;
  name: string;
  categories: string; // JSON array of category keys
  email: string;
  phone: string | null;
  locale: string; // 'fr' | 'en'
  contract_ref: string | null;
  /** ISO 8601 durations from the support contract. */
  acknowledge: string | null;
  resolve: string | null;
  active: number;
  system_user_id: number;
  created_at: number;
  updated_at: number;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  kind: string; // 'api' | 'session'
  name: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** The ID token of a single sign-on session, kept for the provider's sign-out (id_token_hint). */
  id_token: string | null;
}

export interface MatrixVersionsTable {
  version: number;
  definition: string; // JSON MatrixDefinition
  created_at: number;
  created_by: number | null;
  comment: string | null;
}

export interface IncidentsTable {
  id: Generated<number>;
  title: string;
  description: string;
  category: string;
  impact: number;
  urgency: number;
  priority: string;
  requester_id: number;
  assignee_id: number | null;
  tier: string;
  status: string;
  /** 1 while the status is new, acknowledged, in_progress or pending. */
  is_open: number;
  pending_reason: string | null;
  matrix_version: number;
  checklist: string; // JSON Record<tier, number[]>
  reopen_count: number;
  escalation_count: number;
  resolution: string | null;
  tier_entered_at: number;
  created_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
  seq: number;
  vendor_id: number | null;
  vendor_ticket: string | null;
  vendor_status: string | null;
}

export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: number;
  seq: number;
  at: number;
  actor_id: number | null;
  kind: string;
  from_tier: string | null;
  to_tier: string | null;
  data: string; // JSON
  /** SHA-256 chained to the previous event of the incident (src/store/event-chain.ts). */
  hash: string;
}

/** Per-incident report figures, rewritten with every change of the incident (src/domain/incident-figures.ts). */
export interface IncidentFiguresTable {
  incident_id: number;
  category: string;
  priority: string;
  tier: string;
  created_at: number;
  acknowledged_at: number | null;
  ack_ms: number | null;
  ack_business_ms: number | null;
  resolved_at: number | null;
  resolve_ms: number | null;
  resolve_business_ms: number | null;
  ever_resolved: number;
  reopen_count: number;
  reached_top: number;
  escalations_hand: number;
  escalations_missed: number;
  seq: number;
}

/** One row per stay of an incident at a tier. */
export interface IncidentStintFiguresTable {
  incident_id: number;
  n: number;
  tier: string;
  category: string;
  priority: string;
  created_at: number;
  entered_at: number;
  exit: string | null; // 'hand' | 'missed' | 'other' | 'handed_back'
  wall_ms: number | null;
  business_ms: number | null;
  ack_met: number | null;
  resolve_met: number | null;
}

/** One row per hand-over of an incident to a vendor (src/domain/incident-figures.ts). */
export interface VendorEngagementFiguresTable {
  incident_id: number;
  n: number;
  vendor_id: number;
  vendor_name: string;
  category: string;
  priority: string;
  /** The tier that handed over. */
  tier: string;
  /** The incident's current tier. */
  incident_tier: string;
  created_at: number;
  engaged_at: number;
  first_for_vendor: number;
  reached_top: number;
  ack_target: string | null;
  resolve_target: string | null;
  ack_ms: number | null;
  resolve_ms: number | null;
  ack_met: number | null;
  resolve_met: number | null;
}

/** Daily sums of incident_figures per (UTC day of creation, category, priority, current tier); see src/store/report-rollups.ts. */
export interface ReportIncidentsDailyTable {
  day: number;
  category: string;
  priority: string;
  tier: string;
  opened: number;
  acknowledged: number;
  resolved: number;
  ever_resolved: number;
  reopened: number;
  reached_top: number;
  ack_ms: number;
  ack_business_ms: number;
  resolve_ms: number;
  resolve_business_ms: number;
}

/** Daily sums of incident_stint_figures per (UTC day of the incident's creation, category, priority, stint tier). */
export interface ReportStintsDailyTable {
  day: number;
  category: string;
  priority: string;
  tier: string;
  stints: number;
  ack_met: number;
  ack_missed: number;
  resolve_met: number;
  resolve_missed: number;
  exit_hand: number;
  exit_missed: number;
  exit_other: number;
  exit_handed_back: number;
  completed: number;
  wall_ms: number;
  business_ms: number;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type IncidentRow = Selectable<IncidentsTable>;
export type IncidentUpdate = Updateable<IncidentsTable>;
export type EventRow = Selectable<IncidentEventsTable>;

export interface IntegrationsTable {
  id: Generated<number>;
  kind: string; // 'alertmanager' | 'events-v2' | 'email'
  name: string;
  config: string; // JSON IntegrationConfig
  /** SHA-256 of the key; the key itself is shown once, at creation or rotation. */
  key_hash: string;
  key_hint: string;
  /** An e-mail integration's own address (lower case), besides anything+<key>@… */
  address: string | null;
  /** The account alerts and events act as. */
  system_user_id: number;
  created_by: number | null;
  created_at: number;
  key_rotated_at: number | null;
  disabled_at: number | null;
}

export interface InboundMessagesTable {
  id: Generated<number>;
  integration_id: number;
  channel: string; // 'alertmanager' | 'events-v2' | 'email'
  body: string; // as received
  body_encoding: string; // 'utf8' | 'base64'
  dedup_key: string | null;
  received_at: number;
  status: string; // 'received' | 'processed' | 'rejected'
  attempts: number;
  error: string | null;
  incident_id: number | null;
  outcome: string | null; // JSON
  processed_at: number | null;
}

export interface IntakeCorrelationsTable {
  id: Generated<number>;
  integration_id: number;
  /** 'fp:<fingerprint>', 'gk:<groupKey>', 'dk:<dedup_key>' or 'msg:<Message-ID>' */
  key: string;
  incident_id: number;
  state: string; // 'firing' | 'resolved' | 'triggered' | 'acknowledged' | 'received'
  detail: string | null; // JSON
  active: number;
  created_at: number;
  updated_at: number;
}

export interface NotificationChannelsTable {
  id: Generated<number>;
  name: string;
  kind: string; // 'email' | 'webhook' | 'slack' | 'teams'
  /** A URL, or for e-mail a comma-separated list of addresses. */
  target: string;
  events: string; // JSON array of event kinds
  categories: string | null; // JSON array, null: every category
  tiers: string | null; // JSON array, null: every tier
  locale: string; // 'fr' | 'en'
  /** HMAC key of generic webhooks; shown once, at creation or rotation. */
  secret: string | null;
  enabled: number;
  created_at: number;
  deleted_at: number | null;
}

export interface DeliveriesTable {
  id: Generated<number>;
  /** The first outbox row of the message; later events of a group join its payload. */
  outbox_id: number;
  incident_id: number | null;
  /** Null for e-mail sent straight to a person. */
  channel_id: number | null;
  kind: string; // 'email' | 'webhook' | 'slack' | 'teams'
  /** 'email:<address>' or 'channel:<id>': who a message and its noise limits are for. */
  recipient: string;
  locale: string;
  idempotency_key: string;
  status: string; // 'pending' | 'sent' | 'failed' | 'dropped'
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  sent_at: number | null;
  created_at: number;
  payload: string; // JSON DeliveryPayload
}

/** A team at one tier: who a notification for that tier reaches. */
export interface TeamsTable {
  id: Generated<number>;
  name: string;
  tier: string;
  /** Shared mailbox of the team. */
  email: string | null;
  /** Slack or Microsoft Teams incoming webhook. */
  chat_webhook_url: string | null;
  rotation_starts_at: number;
  rotation_period: string; // 'daily' | 'weekly'
  rotation_handover_time: string; // 'HH:MM' local
  rotation_time_zone: string; // IANA zone
  created_at: number;
  updated_at: number;
}

export interface TeamMembersTable {
  team_id: number;
  user_id: number;
  /** Rotation order among members; managers keep their order too, outside the rotation. */
  position: number;
  role: string; // 'member' | 'manager'
}

export interface OncallOverridesTable {
  id: Generated<number>;
  team_id: number;
  user_id: number;
  starts_at: number;
  ends_at: number;
  reason: string | null;
  created_by: number | null;
  created_at: number;
}
