import { InvalidArgumentError } from '../../graphql/errors.ts';
import { type AlertMetric, type Comparison, defaultComparison } from './alert-metric.ts';
import type {
  AlertRuleFields,
  AlertRuleKind,
  AlertRuleRow,
  ReleaseSelect,
} from './alert-rule.queries.ts';

// Checks a rule's input and fills in its defaults; every failure names the input field at fault.

/** Sentry's crash-rate alert windows. */
export const ALERT_WINDOWS: Record<string, number> = {
  '30m': 1800,
  '1h': 3600,
  '2h': 7200,
  '4h': 14_400,
  '12h': 43_200,
  '24h': 86_400,
};

export function windowName(seconds: number): string {
  return Object.entries(ALERT_WINDOWS).find(([, s]) => s === seconds)?.[0] ?? `${seconds}s`;
}

/** Sessions a release needs before a rule looks at it, unless the rule says otherwise. */
export const DEFAULT_MIN_SESSIONS = 100;

export interface AlertRuleInput {
  name?: string | null;
  kind?: AlertRuleKind | null;
  metric?: AlertMetric | null;
  comparison?: Comparison | null;
  threshold?: number | null;
  resolveThreshold?: number | null;
  window?: string | null;
  minSessions?: number | null;
  minUsers?: number | null;
  environment?: string | null;
  releases?: { select: ReleaseSelect; version?: string | null } | null;
}

const bad = (field: string, message: string) => new InvalidArgumentError(field, message);

function percentage(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw bad(field, `${field} is a percentage: it must lie between 0 and 100.`);
  }
  return value;
}

/**
 * The rule `input` describes, on top of `existing` for an update (fields left out keep their
 * value; a changed metric or threshold takes the defaults that follow from it).
 */
export function parseAlertRuleInput(
  input: AlertRuleInput,
  projectId: number,
  existing?: AlertRuleRow,
): AlertRuleFields {
  const name = (input.name ?? existing?.name ?? '').trim();
  if (name.length === 0 || name.length > 100) {
    throw bad('name', 'The name must have 1 to 100 characters.');
  }
  const kind = input.kind ?? existing?.kind ?? 'THRESHOLD';
  const metric = input.metric ?? existing?.metric;
  if (!metric) throw bad('metric', 'A rule needs a metric.');
  const comparison =
    input.comparison ??
    (input.metric
      ? defaultComparison(metric)
      : (existing?.comparison ?? defaultComparison(metric)));
  const thresholdIn = input.threshold ?? existing?.threshold;
  if (thresholdIn === undefined) throw bad('threshold', 'A rule needs a threshold.');
  const threshold = percentage('threshold', thresholdIn);
  const resolveThreshold = percentage(
    'resolveThreshold',
    input.resolveThreshold ??
      (input.threshold !== undefined && input.threshold !== null
        ? threshold
        : (existing?.resolveThreshold ?? threshold)),
  );
  if (kind === 'REGRESSION') {
    if (threshold <= 0) throw bad('threshold', 'A regression rule needs a drop above 0 points.');
    if (resolveThreshold > threshold) {
      throw bad('resolveThreshold', 'A regression resolves at a drop no larger than threshold.');
    }
  } else if (comparison === 'BELOW' ? resolveThreshold < threshold : resolveThreshold > threshold) {
    throw bad(
      'resolveThreshold',
      `resolveThreshold must lie on the healthy side of threshold (${comparison === 'BELOW' ? 'at or above' : 'at or below'} it), or the incident could never resolve.`,
    );
  }
  let windowSeconds = existing?.windowSeconds ?? ALERT_WINDOWS['1h'] ?? 3600;
  if (input.window !== undefined && input.window !== null) {
    const seconds = ALERT_WINDOWS[input.window];
    if (seconds === undefined) {
      throw bad(
        'window',
        `Unknown window "${input.window}": use one of ${Object.keys(ALERT_WINDOWS).join(', ')}.`,
      );
    }
    windowSeconds = seconds;
  }
  const count = (field: 'minSessions' | 'minUsers', fallback: number) => {
    const value = input[field] ?? existing?.[field] ?? fallback;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw bad(field, `${field} must be a whole number, 0 or more.`);
    }
    return value;
  };
  const environment =
    input.environment === undefined ? (existing?.environment ?? null) : input.environment;
  if (environment !== null && (environment.trim() === '' || environment.length > 64)) {
    throw bad('environment', 'An environment name has 1 to 64 characters; leave it out for all.');
  }
  const releases = input.releases ?? {
    select: existing?.releaseSelect ?? (kind === 'REGRESSION' ? 'NEWEST_ADOPTED' : 'ALL'),
    version: existing?.releaseVersion ?? null,
  };
  const version = releases.version?.trim() || null;
  if (releases.select === 'NAMED' && !version) {
    throw bad('releases', 'NAMED needs the release version.');
  }
  if (releases.select !== 'NAMED' && version) {
    throw bad('releases', 'A version is only taken with NAMED.');
  }
  if (kind === 'REGRESSION' && releases.select !== 'NEWEST_ADOPTED') {
    throw bad('releases', 'A regression rule compares the newest adopted release: NEWEST_ADOPTED.');
  }
  return {
    projectId,
    name,
    kind,
    metric,
    comparison,
    threshold,
    resolveThreshold,
    windowSeconds,
    minSessions: count('minSessions', DEFAULT_MIN_SESSIONS),
    minUsers: count('minUsers', 0),
    environment,
    releaseSelect: releases.select,
    releaseVersion: version,
  };
}
