import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Database, SqlSession } from '../../db/client.ts';
import { insertWebhookDeliveries } from '../webhooks/webhook.queries.ts';
import { EVENT_TYPE, type IncidentPayload, webhookBody } from '../webhooks/webhook-payload.ts';
import type { AlertRuleRow } from './alert-rule.queries.ts';
import {
  type IncidentRow,
  selectIncidentProject,
  selectReleaseVersionsByIds,
} from './incident.queries.ts';

// An incident that opened or resolved becomes webhook deliveries (in the transaction that wrote
// it) and, once committed, a notification every Vigil process hands to its subscribers.

/** Channel of incident events between processes; the payload is `IncidentNotice` as JSON. */
export const INCIDENT_CHANNEL = 'vigil_incident';

export interface IncidentNotice {
  id: number;
  organizationId: number;
  type: 'OPENED' | 'RESOLVED';
}

export interface IncidentContext {
  organizationId: number;
  organizationSlug: string;
  projectSlug: string;
  versions: Map<number, string>;
}

/** Slugs and release versions the payloads name, read once per rule and round. */
export async function loadIncidentContext(
  db: Database,
  projectId: number,
  releaseIds: number[],
): Promise<IncidentContext> {
  const project = await selectIncidentProject(db, projectId);
  if (!project) throw new Error(`project ${projectId} of an alert rule is missing`);
  const releases = await selectReleaseVersionsByIds(db, releaseIds);
  return { ...project, versions: new Map(releases.map((r) => [r.id, r.version])) };
}

export function incidentPayload(
  incident: IncidentRow,
  rule: AlertRuleRow,
  versions: Map<number, string>,
): IncidentPayload {
  return {
    id: encodeGlobalID('Incident', incident.id),
    status: incident.status,
    rule: {
      id: encodeGlobalID('AlertRule', rule.id),
      name: rule.name,
      kind: rule.kind,
      metric: rule.metric,
      comparison: rule.comparison,
    },
    release: versions.get(incident.releaseId) ?? '',
    environment: incident.environment === '' ? null : incident.environment,
    value: incident.value,
    threshold: incident.threshold,
    resolveThreshold: rule.resolveThreshold,
    baseline:
      incident.baselineReleaseId === null
        ? null
        : {
            release: versions.get(incident.baselineReleaseId) ?? '',
            value: incident.baselineValue,
          },
    openedAt: incident.openedAt.toISOString(),
    resolvedAt: incident.resolvedAt?.toISOString() ?? null,
    resolvedValue: incident.resolvedValue,
  };
}

/** Queues the deliveries of one incident event, inside the transaction that wrote it. */
export function queueIncidentDeliveries(
  tx: SqlSession,
  incident: IncidentRow,
  rule: AlertRuleRow,
  context: IncidentContext,
  at: Date,
) {
  const event = incident.status === 'OPEN' ? 'INCIDENT_OPENED' : 'INCIDENT_RESOLVED';
  return insertWebhookDeliveries(tx, {
    organizationId: context.organizationId,
    event,
    at,
    body: (id) =>
      webhookBody({
        version: 1,
        id,
        type: EVENT_TYPE[event],
        createdAt: at.toISOString(),
        organization: { slug: context.organizationSlug },
        project: { id: rule.projectId, slug: context.projectSlug },
        incident: incidentPayload(incident, rule, context.versions),
      }),
  });
}
