import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { type HandItem, postEnvelope } from '../support/envelopes.ts';
import {
  captureEndedSession,
  ENVIRONMENT,
  RELEASE,
  recordSdkEnvelopes,
} from '../support/sentry.ts';
import type { TestProject, TestServer } from '../support/server.ts';
import { storedRows } from './stored-counts.ts';

// Hand-built session items, for bad input only (good input comes from the real SDK), and a
// baseline to check bad input against. Envelopes are built by test/support/envelopes.ts.

export const newSid = () => randomBytes(16).toString('hex');

/** A valid, finished session update as the SDK writes it; override any field, or unset it. */
export function sessionUpdate(
  overrides: Record<string, unknown> = {},
  attrs: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    sid: newSid(),
    init: true,
    started: now,
    timestamp: now,
    status: 'exited',
    errors: 0,
    did: 'hand-built-user',
    duration: 5,
    ...overrides,
    attrs: { release: RELEASE, environment: ENVIRONMENT, ...attrs },
  };
}

export const sessionItem = (
  overrides?: Record<string, unknown>,
  attrs?: Record<string, unknown>,
): HandItem => ({ type: 'session', payload: sessionUpdate(overrides, attrs) });

export const BASELINE_RELEASE = 'baseline@1.0.0';

let baselineEnvelopes: Promise<Buffer[]> | undefined;

/**
 * Stores one good session of @sentry/node (release `baseline@1.0.0`) and remembers the stored
 * rows, so that a test can check what bad input sent afterwards did to them. The SDK's envelopes
 * are recorded once per file and posted to each test's project.
 */
export async function storeBaseline(server: TestServer, project: TestProject) {
  baselineEnvelopes ??= recordSdkEnvelopes(
    (sdk) =>
      void captureEndedSession(sdk, { did: 'baseline-user', status: 'exited', durationSeconds: 3 }),
    { release: BASELINE_RELEASE },
  );
  for (const envelope of await baselineEnvelopes) {
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
  }
  const before = await storedRows(server.db, project.id);
  expect(before.counters.length).toBeGreaterThan(0);
  expect(before.durations.length).toBeGreaterThan(0);
  return {
    /** Nothing at all was stored since: no row changed, none was added. */
    async expectUnchanged() {
      expect(await storedRows(server.db, project.id)).toEqual(before);
    },
    /** The baseline release's rows are as they were, whatever else was stored. */
    async expectBaselineKept() {
      expect(await storedRows(server.db, project.id, BASELINE_RELEASE)).toEqual(before);
    },
  };
}
