import type { Database } from '../../db/client.ts';
import { totalsGranularity } from '../../metrics/metric-store.ts';
import { type MetricsRow, selectSessionMetrics } from '../../metrics/session-metrics.queries.ts';
import type { HealthCounts } from '../release-health/release-health.loaders.ts';
import { metricValue } from './alert-metric.ts';
import {
  type AdoptedRow,
  type AlertRuleRow,
  selectAdoptedReleases,
  selectReleaseIdByVersion,
} from './alert-rule.queries.ts';

// What a rule sees at one moment: for each release (and environment) it watches, the metric over
// the rule's window and the volume behind it; for REGRESSION rules, the same for the release it
// replaced. A rule's decisions (alert-decision.ts) read nothing else.

export interface Reading {
  releaseId: number;
  /** '' when the rule covers every environment together. */
  environment: string;
  value: number | null;
  /** Whether both sides meet the rule's minimum sessions and users. */
  enough: boolean;
  baselineReleaseId: number | null;
  baselineValue: number | null;
}

const enoughVolume = (rule: AlertRuleRow, c: HealthCounts) =>
  c.sessions.sessions >= rule.minSessions && c.users.users >= rule.minUsers;

/** Metrics of `releaseIds` (every release when undefined) over the rule's window ending at `end`. */
async function rowsOver(
  db: Database,
  rule: AlertRuleRow,
  releaseIds: number[] | undefined,
  environments: string[] | undefined,
  end: Date,
  byEnvironment: boolean,
): Promise<MetricsRow[]> {
  const range = { start: new Date(end.getTime() - rule.windowSeconds * 1000), end, period: null };
  return selectSessionMetrics(db, {
    projectIds: [rule.projectId],
    releaseIds,
    environments,
    start: range.start,
    end: range.end,
    granularity: totalsGranularity(range),
    groupBy: byEnvironment ? ['release', 'environment'] : ['release'],
  });
}

/** Counts of `releaseIds` over the rule's window ending at `end`, keyed `release|environment`. */
async function countsOver(
  db: Database,
  rule: AlertRuleRow,
  releaseIds: number[],
  environments: string[] | undefined,
  end: Date,
  byEnvironment: boolean,
): Promise<Map<string, MetricsRow>> {
  if (releaseIds.length === 0) return new Map();
  const rows = await rowsOver(db, rule, releaseIds, environments, end, byEnvironment);
  return new Map(rows.map((r) => [`${r.releaseId}|${r.environment ?? ''}`, r]));
}

/** The rule's readings at `now`: one per watched release and environment that had sessions. */
export async function readRule(db: Database, rule: AlertRuleRow, now: Date): Promise<Reading[]> {
  const environments = rule.environment === null ? undefined : [rule.environment];
  const reading = (row: MetricsRow, environment: string): Reading => ({
    releaseId: row.releaseId ?? 0,
    environment,
    value: metricValue(rule.metric, row),
    enough: enoughVolume(rule, row),
    baselineReleaseId: null,
    baselineValue: null,
  });

  if (rule.kind === 'THRESHOLD' && rule.releaseSelect !== 'NEWEST_ADOPTED') {
    let releaseIds: number[] | undefined;
    if (rule.releaseSelect === 'NAMED') {
      releaseIds = (
        await selectReleaseIdByVersion(db, rule.projectId, rule.releaseVersion ?? '')
      ).map((r) => r.id);
      if (releaseIds.length === 0) return [];
    }
    const rows = await rowsOver(db, rule, releaseIds, environments, now, false);
    return rows
      .filter((r) => r.sessions.sessions > 0)
      .map((r) => reading(r, rule.environment ?? ''));
  }

  // Adoption is per environment, so these rules read each environment's newest adopted release.
  const adopted = await selectAdoptedReleases(db, rule.projectId, rule.environment, now);
  const byEnvironment = new Map<string, AdoptedRow[]>();
  for (const row of adopted) {
    const list = byEnvironment.get(row.environment) ?? [];
    list.push(row);
    byEnvironment.set(row.environment, list);
  }
  const current = [...byEnvironment.values()].flatMap((list) => (list[0] ? [list[0]] : []));
  const counts = await countsOver(
    db,
    rule,
    [...new Set(current.map((c) => c.releaseId))],
    [...byEnvironment.keys()],
    now,
    true,
  );
  const readings: Reading[] = [];
  for (const newest of current) {
    const row = counts.get(`${newest.releaseId}|${newest.environment}`);
    if (!row || row.sessions.sessions === 0) continue;
    const r = reading(row, newest.environment);
    if (rule.kind === 'REGRESSION') {
      const previous = byEnvironment.get(newest.environment)?.[1];
      if (!previous) continue;
      // The replaced release as it was while it was the newest: its window before the switch.
      const before = await countsOver(
        db,
        rule,
        [previous.releaseId],
        [newest.environment],
        newest.adoptedAt,
        true,
      );
      const base = before.get(`${previous.releaseId}|${newest.environment}`);
      r.baselineReleaseId = previous.releaseId;
      r.baselineValue = base ? metricValue(rule.metric, base) : null;
      r.enough = r.enough && !!base && enoughVolume(rule, base);
    }
    readings.push(r);
  }
  return readings;
}
