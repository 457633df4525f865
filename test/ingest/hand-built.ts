import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import {
  captureEndedSession,
  ENVIRONMENT,
  postEnvelope,
  RELEASE,
  recordSdkEnvelopes,
} from '../support/sentry.ts';
import type { TestProject, TestServer } from '../support/server.ts';
import { storedRows } from './stored-counts.ts';

// Hand-built envelopes, for bad input only: good input comes from the real SDK.

export interface HandItem {
  type: string;
  /** A string or bytes are sent as they are; anything else as JSON. */
  payload: unknown;
  /** Write the payload's byte length into the item header (Relay's framed form). */
  withLength?: boolean;
}

export function buildEnvelope(
  items: HandItem[],
  header: Record<string, unknown> = { sent_at: new Date().toISOString() },
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(header)}\n`)];
  for (const { type, payload, withLength } of items) {
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const itemHeader = withLength ? { type, length: bytes.length } : { type };
    parts.push(Buffer.from(`${JSON.stringify(itemHeader)}\n`), bytes, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

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
