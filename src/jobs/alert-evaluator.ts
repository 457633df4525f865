import { publishProjectsChanged } from '../cache/data-changes.ts';
import type { Database } from '../db/client.ts';
import { decide, incidentKey } from '../modules/alerts/alert-decision.ts';
import { readRule } from '../modules/alerts/alert-readings.ts';
import {
  type AlertRuleRow,
  claimDueAlertRules,
  releaseAlertRuleLeases,
} from '../modules/alerts/alert-rule.queries.ts';
import {
  type IncidentRow,
  insertIncident,
  selectOpenIncidentsByRuleId,
  updateIncidentResolved,
  updateIncidentsLastValue,
} from '../modules/alerts/incident.queries.ts';
import {
  INCIDENT_CHANNEL,
  type IncidentNotice,
  loadIncidentContext,
  queueIncidentDeliveries,
} from '../modules/alerts/incident-events.ts';
import { WEBHOOK_CHANNEL } from './webhook-deliverer.ts';

// Alert rules, evaluated once per round (a minute by default). Each rule is claimed by exactly one
// process per round (claimDueAlertRules: a round number and a lease on the row, SKIP LOCKED), read
// (alert-readings.ts), decided (alert-decision.ts), and its incidents and webhook deliveries are
// written in one transaction; the notices go out after the commit.

export interface EvaluatorOptions {
  now: Date;
  /** Length of a round: a rule is evaluated at most once per round. @default 60_000 */
  roundMs?: number;
  /** A process that dies mid-evaluation blocks its rules this long. @default 120_000 */
  leaseMs?: number;
}

export interface EvaluationSummary {
  rules: number;
  opened: number;
  resolved: number;
}

async function evaluateRule(db: Database, rule: AlertRuleRow, now: Date) {
  const [readings, open] = await Promise.all([
    readRule(db, rule, now),
    selectOpenIncidentsByRuleId(db, rule.id),
  ]);
  const decisions = decide(rule, new Map(open.map((i) => [incidentKey(i), i])), readings);
  await updateIncidentsLastValue(
    db,
    decisions.still.map(({ incident, reading }) => ({
      id: incident.id,
      value: reading.value ?? 0,
    })),
    now,
  );
  if (decisions.open.length === 0 && decisions.resolve.length === 0) {
    return { changed: [], wrote: decisions.still.length > 0 };
  }
  const releaseIds = [
    ...decisions.open.flatMap((r) => [r.releaseId, r.baselineReleaseId ?? r.releaseId]),
    ...decisions.resolve.flatMap(({ incident: i }) => [
      i.releaseId,
      i.baselineReleaseId ?? i.releaseId,
    ]),
  ];
  const context = await loadIncidentContext(db, rule.projectId, releaseIds);
  const changed = await db.transaction(async (tx) => {
    const rows: IncidentRow[] = [];
    for (const reading of decisions.open) {
      const incident = await insertIncident(tx, {
        ruleId: rule.id,
        projectId: rule.projectId,
        organizationId: context.organizationId,
        releaseId: reading.releaseId,
        environment: reading.environment,
        value: reading.value ?? 0,
        threshold: rule.threshold,
        baselineReleaseId: reading.baselineReleaseId,
        baselineValue: reading.baselineValue,
        at: now,
      });
      await queueIncidentDeliveries(tx, incident, rule, context, now);
      rows.push(incident);
    }
    for (const { incident, reading } of decisions.resolve) {
      const resolved = await updateIncidentResolved(tx, incident.id, reading.value ?? 0, now);
      if (!resolved) continue;
      await queueIncidentDeliveries(tx, resolved, rule, context, now);
      rows.push(resolved);
    }
    return rows;
  });
  return { changed, wrote: true };
}

/** One round: evaluates every rule this process claims; callable directly (tests, previews). */
export async function evaluateAlertRules(
  db: Database,
  { now, roundMs = 60_000, leaseMs = 120_000 }: EvaluatorOptions,
): Promise<EvaluationSummary> {
  const round = Math.floor(now.getTime() / roundMs) * roundMs;
  const rules = await claimDueAlertRules(db, round, now, new Date(now.getTime() + leaseMs));
  const summary: EvaluationSummary = { rules: rules.length, opened: 0, resolved: 0 };
  // Projects whose incidents changed (opened, resolved, or a new lastValue): cached reads go.
  const touched = new Set<number>();
  try {
    for (const rule of rules) {
      const { changed, wrote } = await evaluateRule(db, rule, now);
      if (wrote) touched.add(rule.projectId);
      for (const incident of changed) {
        if (incident.status === 'OPEN') summary.opened += 1;
        else summary.resolved += 1;
        const notice: IncidentNotice = {
          id: incident.id,
          organizationId: incident.organizationId,
          type: incident.status === 'OPEN' ? 'OPENED' : 'RESOLVED',
        };
        await db.notifications.publish(INCIDENT_CHANNEL, JSON.stringify(notice));
      }
      if (changed.length > 0) await db.notifications.publish(WEBHOOK_CHANNEL, '');
    }
  } finally {
    if (rules.length > 0)
      await releaseAlertRuleLeases(
        db,
        rules.map((r) => r.id),
      );
    await publishProjectsChanged(db, touched);
  }
  return summary;
}

/** Runs a round every `everyMs` (each process; the claim keeps rules to one of them). */
export function startAlertEvaluator(
  db: Database,
  options: { everyMs?: number; clock?: () => Date; onError: (error: unknown) => void },
) {
  const { everyMs = 60_000, clock = () => new Date(), onError } = options;
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      running = running.then(() =>
        evaluateAlertRules(db, { now: clock(), roundMs: everyMs }).catch(onError),
      );
    },
    Math.max(1_000, Math.floor(everyMs / 4)),
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
