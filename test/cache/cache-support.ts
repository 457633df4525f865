import { expect } from 'vitest';
import { postEnvelope, sessionsEnvelope } from '../support/envelopes.ts';
import type { GraphQLResult, TestProject } from '../support/server.ts';

// Shared by the cache tests: a clock held still in the middle of a minute (cached answers live
// until their minute ends, so a moving clock would let a test pass by expiry), sessions sent at a
// fixed start, and the query whose numbers they change.

/** One second into the next minute: every answer of a test shares one minute. */
export function frozenClock() {
  let now = (Math.floor(Date.now() / 60_000) + 1) * 60_000 + 1_000;
  return {
    clock: () => new Date(now),
    at: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Sends one exited session of `release` that started five minutes before `now`. */
export async function sendSession(
  envelopeUrl: string,
  now: Date,
  release = 'app@1.0.0',
): Promise<void> {
  const started = new Date(now.getTime() - 5 * 60_000);
  const response = await postEnvelope(envelopeUrl, sessionsEnvelope([{ started, release }]));
  expect(response.status).toBe(200);
}

export const RELEASE_HEALTH = /* GraphQL */ `
  query ReleaseHealth($org: String!, $slug: String!, $version: String!) {
    project(organizationSlug: $org, slug: $slug) {
      release(version: $version) {
        health(period: "24h") { sessions sessionsAdoption }
      }
    }
  }`;

export interface ReleaseHealthData {
  project: { release: { health: { sessions: number; sessionsAdoption: number | null } } | null };
}

export const variablesOf = (project: Pick<TestProject, 'organizationSlug' | 'slug'>) => ({
  org: project.organizationSlug,
  slug: project.slug,
  version: 'app@1.0.0',
});

export function healthOf(result: GraphQLResult<ReleaseHealthData>) {
  expect(result.errors, JSON.stringify(result)).toBeUndefined();
  return result.data?.project.release?.health;
}
