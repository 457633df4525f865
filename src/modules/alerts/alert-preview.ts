import type { Database } from '../../db/client.ts';
import { decide, incidentKey } from './alert-decision.ts';
import { readRule } from './alert-readings.ts';
import type { AlertRuleFields, AlertRuleRow } from './alert-rule.queries.ts';

// previewAlertRule: the evaluator's own reading and decision, replayed over the stored data of the
// past 7 days at a fixed step, so a rule's noise shows before it is saved.

export const PREVIEW_DAYS = 7;
/** Evaluations every 30 minutes: 336 over a week, each one or two grouped statements. */
export const PREVIEW_STEP_MS = 1_800_000;

export interface PreviewIncident {
  releaseId: number;
  environment: string;
  openedAt: Date;
  openValue: number;
  resolvedAt: Date | null;
  resolvedValue: number | null;
}

export interface AlertRulePreview {
  from: Date;
  to: Date;
  stepSeconds: number;
  evaluations: number;
  incidents: PreviewIncident[];
}

export async function previewAlertRule(
  db: Database,
  fields: AlertRuleFields,
  now: Date,
): Promise<AlertRulePreview> {
  const rule: AlertRuleRow = {
    ...fields,
    id: 0,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const from = new Date(now.getTime() - PREVIEW_DAYS * 86_400_000);
  const open = new Map<string, PreviewIncident>();
  const incidents: PreviewIncident[] = [];
  let evaluations = 0;
  for (let t = from.getTime() + PREVIEW_STEP_MS; t <= now.getTime(); t += PREVIEW_STEP_MS) {
    const at = new Date(t);
    evaluations += 1;
    const decisions = decide(rule, open, await readRule(db, rule, at));
    for (const reading of decisions.open) {
      const incident: PreviewIncident = {
        releaseId: reading.releaseId,
        environment: reading.environment,
        openedAt: at,
        openValue: reading.value ?? 0,
        resolvedAt: null,
        resolvedValue: null,
      };
      open.set(incidentKey(reading), incident);
      incidents.push(incident);
    }
    for (const { incident, reading } of decisions.resolve) {
      incident.resolvedAt = at;
      incident.resolvedValue = reading.value;
      open.delete(incidentKey(incident));
    }
  }
  return { from, to: now, stepSeconds: PREVIEW_STEP_MS / 1000, evaluations, incidents };
}
