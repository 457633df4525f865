import { type Comparison, isPast } from './alert-metric.ts';
import type { Reading } from './alert-readings.ts';

// When a reading opens or resolves an incident: pure, shared by the evaluator and the preview.
// Hysteresis: an incident opens past `threshold` and resolves only once back past
// `resolveThreshold`, which lies on the healthy side of it, so a value between the two lines
// changes nothing. A reading below the minimum volume changes nothing either.

export interface DecisionRule {
  kind: 'THRESHOLD' | 'REGRESSION';
  comparison: Comparison;
  threshold: number;
  resolveThreshold: number;
}

/**
 * The number the rule's lines apply to: the metric itself, or for REGRESSION rules how many
 * points worse the release is than the one it replaced (worse: lower for BELOW metrics).
 */
export function signalOf(rule: DecisionRule, reading: Reading): number | null {
  if (reading.value === null) return null;
  if (rule.kind === 'THRESHOLD') return reading.value;
  if (reading.baselineValue === null) return null;
  return rule.comparison === 'BELOW'
    ? reading.baselineValue - reading.value
    : reading.value - reading.baselineValue;
}

export function opens(rule: DecisionRule, reading: Reading): boolean {
  const signal = signalOf(rule, reading);
  if (signal === null || !reading.enough) return false;
  return rule.kind === 'REGRESSION'
    ? signal >= rule.threshold
    : isPast(rule.comparison, signal, rule.threshold);
}

export function resolves(rule: DecisionRule, reading: Reading): boolean {
  const signal = signalOf(rule, reading);
  if (signal === null || !reading.enough) return false;
  return rule.kind === 'REGRESSION'
    ? signal < rule.resolveThreshold
    : !isPast(rule.comparison, signal, rule.resolveThreshold);
}

export const incidentKey = (r: { releaseId: number; environment: string }) =>
  `${r.releaseId}|${r.environment}`;

export interface Decisions<Open> {
  open: Reading[];
  resolve: Array<{ incident: Open; reading: Reading }>;
  /** Open incidents seen again and still open: their last value is refreshed. */
  still: Array<{ incident: Open; reading: Reading }>;
}

/** What this round does, given the rule's open incidents keyed by `incidentKey`. */
export function decide<Open>(
  rule: DecisionRule,
  openIncidents: ReadonlyMap<string, Open>,
  readings: readonly Reading[],
): Decisions<Open> {
  const result: Decisions<Open> = { open: [], resolve: [], still: [] };
  for (const reading of readings) {
    const incident = openIncidents.get(incidentKey(reading));
    if (incident === undefined) {
      if (opens(rule, reading)) result.open.push(reading);
    } else if (resolves(rule, reading)) {
      result.resolve.push({ incident, reading });
    } else if (reading.value !== null) {
      result.still.push({ incident, reading });
    }
  }
  return result;
}
