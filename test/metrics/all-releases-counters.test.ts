import { describe, expect } from 'vitest';
import { GRANULARITIES } from '../../src/metrics/metric-store.ts';
import { buildEnvelope, postEnvelope, sendSessions, sessionPayload } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// Release 0 of session_counter is the project's all-releases row: what project-wide reads sum
// instead of one row per release. It must always be the sum of the release rows, at every
// granularity, whatever ingest did (updates, aggregates, refused items).

const COLUMNS = 'sessions, errored_all, crashed, abnormal, unhandled, anr, anr_foreground';

/** Rows of release 0 beside the sums of the release rows, per granularity, bucket and environment. */
async function allReleasesAndSums(server: TestServer, project: TestProject) {
  const sums = COLUMNS.split(', ')
    .map((c) => `sum(${c}) FILTER (WHERE release_id <> 0)::int AS ${c}`)
    .join(', ');
  const zero = COLUMNS.split(', ')
    .map((c) => `sum(${c}) FILTER (WHERE release_id = 0)::int AS ${c}`)
    .join(', ');
  return server.db.prisma.$queryRawUnsafe<
    Array<{ granularity: number; releases: unknown; all_releases: unknown }>
  >(
    `SELECT granularity, bucket, environment_id,
            json_build_object(${COLUMNS.split(', ')
              .map((c) => `'${c}', ${c}`)
              .join(', ')}) AS releases,
            json_build_object(${COLUMNS.split(', ')
              .map((c) => `'${c}', z_${c}`)
              .join(', ')}) AS all_releases
     FROM (SELECT granularity, bucket, environment_id, ${sums},
                  ${zero.replace(/ AS /g, ' AS z_')}
           FROM session_counter WHERE project_id = $1
           GROUP BY 1, 2, 3) t
     ORDER BY 1, 2, 3`,
    project.id,
  );
}

const HEALTH = /* GraphQL */ `
  query ($org: String!, $slug: String!) {
    project(organizationSlug: $org, slug: $slug) {
      health(period: "24h") { sessions sessionsErrored sessionsCrashed }
      releases(first: 10) { edges { node { health(period: "24h") { sessions sessionsErrored sessionsCrashed } } } }
    }
  }`;

interface Counts {
  sessions: number;
  sessionsErrored: number;
  sessionsCrashed: number;
}

describe('all-releases counter rows (release 0)', () => {
  test('are the sums of the release rows at every granularity, and project health reads them', async ({
    server,
    project,
  }) => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const sid = 'a'.repeat(32);
    await sendSessions(server, project, [
      { release: 'app@1.0.0', environment: 'production' },
      { release: 'app@1.0.0', environment: 'staging', status: 'crashed' },
      { release: 'app@2.0.0', environment: 'production', started: hourAgo, errors: 2 },
      { sid, release: 'app@3.0.0', environment: 'production', status: 'ok' },
    ]);
    // An update that turns a stored session crashed moves its release's rows and release 0's.
    await sendSessions(server, project, [
      {
        sid,
        release: 'app@3.0.0',
        environment: 'production',
        init: false,
        status: 'crashed',
        seq: 2,
      },
    ]);
    // Pre-aggregated sessions (server-mode SDKs) count for release 0 too.
    const aggregate = {
      aggregates: [{ started: new Date().toISOString(), exited: 3, errored: 1, crashed: 1 }],
      attrs: { release: 'app@2.0.0', environment: 'production' },
    };
    const accepted = await postEnvelope(
      server.envelopeUrl(project),
      buildEnvelope([{ type: 'sessions', payload: aggregate }]),
    );
    expect(accepted.status).toBe(200);

    const rows = await allReleasesAndSums(server, project);
    expect(new Set(rows.map((r) => r.granularity))).toEqual(new Set(GRANULARITIES));
    for (const row of rows) expect(row.all_releases, JSON.stringify(row)).toEqual(row.releases);

    const data = await server.gql<{
      project: { health: Counts; releases: { edges: Array<{ node: { health: Counts } }> } };
    }>(HEALTH, { org: project.organizationSlug, slug: project.slug });
    expect(data.errors).toBeUndefined();
    const { health, releases } = data.data?.project ?? { health: null, releases: { edges: [] } };
    const sum = (k: keyof Counts) => releases.edges.reduce((n, r) => n + r.node.health[k], 0);
    // sessionsErrored leaves out crashed ones: 5 errored in all, 3 of them crashed.
    expect(health).toEqual({ sessions: 9, sessionsErrored: 2, sessionsCrashed: 3 });
    expect(health).toEqual({
      sessions: sum('sessions'),
      sessionsErrored: sum('sessionsErrored'),
      sessionsCrashed: sum('sessionsCrashed'),
    });
  });

  test('refused items and a replayed envelope leave release 0 as they leave the releases', async ({
    server,
    project,
  }) => {
    const good = sessionPayload({ release: 'app@1.0.0', status: 'crashed' });
    const envelope = buildEnvelope([
      { type: 'session', payload: good },
      // Refused: a status Sentry does not know, and a session without a release.
      { type: 'session', payload: { ...sessionPayload({}), status: 'exploded' } },
      { type: 'session', payload: { ...sessionPayload({}), attrs: { environment: 'production' } } },
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    // The same envelope again (an SDK's retry): its session merges into its state, nothing moves.
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);

    const rows = await allReleasesAndSums(server, project);
    expect(rows).toHaveLength(GRANULARITIES.length);
    for (const row of rows) {
      expect(row.all_releases).toEqual(row.releases);
      expect(row.all_releases).toMatchObject({ sessions: 1, errored_all: 1, crashed: 1 });
    }
  });
});
