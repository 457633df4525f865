// The JSON body of a delivery, version 1 (docs/design.md § Webhooks). Fields are only ever added
// within a version; a change that removes or renames one is a new `version`.

export const WEBHOOK_EVENTS = ['INCIDENT_OPENED', 'INCIDENT_RESOLVED'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** The `type` of a body: the event in Sentry-like dotted form. */
export const EVENT_TYPE: Record<WebhookEvent | 'TEST', string> = {
  INCIDENT_OPENED: 'incident.opened',
  INCIDENT_RESOLVED: 'incident.resolved',
  TEST: 'webhook.test',
};

export interface IncidentPayload {
  id: string;
  status: 'OPEN' | 'RESOLVED';
  rule: { id: string; name: string; kind: string; metric: string; comparison: string };
  release: string;
  /** null: the rule covers every environment together. */
  environment: string | null;
  value: number;
  threshold: number;
  resolveThreshold: number;
  baseline: { release: string; value: number | null } | null;
  openedAt: string;
  resolvedAt: string | null;
  resolvedValue: number | null;
}

export interface WebhookBody {
  version: 1;
  /** The idempotency id: the same on every attempt of this delivery. */
  id: string;
  type: string;
  createdAt: string;
  organization: { slug: string };
  project: { id: number; slug: string } | null;
  incident: IncidentPayload | null;
}

export function webhookBody(body: WebhookBody): string {
  return JSON.stringify(body);
}
