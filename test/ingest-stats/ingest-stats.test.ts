import { randomBytes } from 'node:crypto';
import { test as base, describe, expect } from 'vitest';
import { sessionItem } from '../ingest/hand-built.ts';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { expectData } from '../support/gql.ts';
import { ENVIRONMENT, RELEASE } from '../support/sentry.ts';
import { startTestServer, type TestProject, type TestServer } from '../support/server.ts';

// Project.ingestStats and Organization.ingestStats: every reason an item is dropped or an
// envelope refused shows up after the input that causes it, and nothing else moves.

const MAX_BYTES = 4096;
const PER_MINUTE = 4;

const test = base.extend<{ server: TestServer; project: TestProject }>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring
    async ({}, use) => {
      const server = await startTestServer({
        config: {
          VIGIL_MAX_ENVELOPE_BYTES: String(MAX_BYTES),
          VIGIL_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
        },
      });
      await use(server);
      await server.close();
    },
    { scope: 'file' },
  ],
  project: async ({ server }, use) => {
    await use(await server.createProject());
  },
});

interface Counts {
  acceptedSessions: number;
  aggregatedSessions: number;
  droppedItems: number;
  refusedEnvelopes: number;
  dropped: Array<{ reason: string; count: number }>;
  refused: Array<{ reason: string; count: number }>;
}

interface Stats {
  start: string;
  end: string;
  intervalSeconds: number;
  totals: Counts;
  series: Array<{ time: string; counts: Counts }>;
}

const COUNTS =
  'acceptedSessions aggregatedSessions droppedItems refusedEnvelopes dropped { reason count } refused { reason count }';

async function projectStats(server: TestServer, project: TestProject, args = ''): Promise<Stats> {
  const result = await server.gql<{ project: { ingestStats: Stats } }>(
    `query ($org: String!, $slug: String!) {
      project(organizationSlug: $org, slug: $slug) {
        ingestStats${args} { start end intervalSeconds totals { ${COUNTS} } series { time counts { ${COUNTS} } } }
      }
    }`,
    { org: project.organizationSlug, slug: project.slug },
  );
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return (result.data as { project: { ingestStats: Stats } }).project.ingestStats;
}

const NOTHING: Counts = {
  acceptedSessions: 0,
  aggregatedSessions: 0,
  droppedItems: 0,
  refusedEnvelopes: 0,
  dropped: [],
  refused: [],
};

/** Refusals are written within about a second, in a batch: wait for them, never for a time. */
async function statsOnceRefused(
  server: TestServer,
  project: TestProject,
  refused: number,
): Promise<Counts> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { totals } = await projectStats(server, project);
    if (totals.refusedEnvelopes >= refused || Date.now() > deadline) return totals;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const now = () => new Date().toISOString();
const aggregates = (exited: number, started = now()): HandItem => ({
  type: 'sessions',
  payload: {
    attrs: { release: RELEASE, environment: ENVIRONMENT },
    aggregates: [{ started, exited }],
  },
});

describe('Project.ingestStats', () => {
  test('counts accepted session updates and aggregated sessions, in totals and in the current interval', async ({
    server,
    project,
  }) => {
    expect((await projectStats(server, project)).totals).toEqual(NOTHING);
    const envelope = buildEnvelope([sessionItem(), sessionItem(), aggregates(3)]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);

    const stats = await projectStats(server, project, '(period: "1h", interval: "1m")');
    const expected = { ...NOTHING, acceptedSessions: 2, aggregatedSessions: 3 };
    expect(stats.totals).toEqual(expected);
    expect(stats.intervalSeconds).toBe(60);
    const nonEmpty = stats.series.filter((p) => p.counts.acceptedSessions > 0);
    expect(nonEmpty.map((p) => p.counts)).toEqual([expected]);
    // The interval of receipt: the series' last or, past a minute boundary, the one before.
    const at = Date.parse(nonEmpty[0]?.time ?? '');
    expect(Date.now() - at).toBeGreaterThanOrEqual(0);
    expect(Date.now() - at).toBeLessThan(30 * 60_000);
  });

  const DROPS: Array<[reason: string, item: () => HandItem]> = [
    ['invalid_json', () => ({ type: 'session', payload: '{"sid": ' })],
    ['invalid_payload', () => sessionItem({ errors: -1 })],
    ['missing_release', () => sessionItem({}, { release: undefined })],
    ['invalid_release', () => sessionItem({}, { release: 'latest' })],
    ['invalid_status', () => sessionItem({ status: 'sleeping' })],
    ['invalid_sid', () => sessionItem({ sid: 'not-a-uuid' })],
    ['sequence_overflow', () => sessionItem({ seq: 2 ** 64 })],
    ['too_old', () => sessionItem({ started: '2020-01-01T00:00:00Z', timestamp: undefined })],
    ['too_new', () => sessionItem({ started: new Date(Date.now() + 3_600_000).toISOString() })],
  ];

  test.for(DROPS)(
    'shows an item dropped as %s, next to the session accepted with it',
    async ([reason, item], { server, project }) => {
      const envelope = buildEnvelope([sessionItem(), item()]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);

      expect((await projectStats(server, project)).totals).toEqual({
        ...NOTHING,
        acceptedSessions: 1,
        droppedItems: 1,
        dropped: [{ reason, count: 1 }],
      });
    },
  );

  test('shows a sessions item resent with the same sent_at as a dropped duplicate', async ({
    server,
    project,
  }) => {
    const envelope = buildEnvelope([aggregates(2)], { sent_at: now() });
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);

    expect((await projectStats(server, project)).totals).toEqual({
      ...NOTHING,
      aggregatedSessions: 2,
      droppedItems: 1,
      dropped: [{ reason: 'duplicate', count: 1 }],
    });
  });

  const REFUSALS: Array<
    [reason: string, send: (s: TestServer, p: TestProject) => Promise<number>]
  > = [
    [
      'missing_key',
      (s, p) =>
        postEnvelope(`${s.url}/api/${p.id}/envelope/`, buildEnvelope([sessionItem()])).then(
          (r) => r.status,
        ),
    ],
    [
      'bad_key',
      (s, p) =>
        postEnvelope(
          s.envelopeUrl({ id: p.id, publicKey: randomBytes(16).toString('hex') }),
          buildEnvelope([sessionItem()]),
        ).then((r) => r.status),
    ],
    [
      'invalid_envelope',
      (s, p) => postEnvelope(s.envelopeUrl(p), 'not an envelope').then((r) => r.status),
    ],
    [
      'unsupported_media_type',
      (s, p) =>
        postEnvelope(s.envelopeUrl(p), buildEnvelope([sessionItem()]), {
          'content-type': 'image/png',
        }).then((r) => r.status),
    ],
    [
      'too_large',
      (s, p) =>
        postEnvelope(
          s.envelopeUrl(p),
          buildEnvelope([{ type: 'attachment', payload: 'x'.repeat(MAX_BYTES) }]),
        ).then((r) => r.status),
    ],
    [
      'invalid_envelope',
      // The legacy paths count too.
      (s, p) =>
        postEnvelope(`${s.url}/api/${p.id}/store/?sentry_key=${p.publicKey}`, 'no event').then(
          (r) => r.status,
        ),
    ],
  ];

  // Refusals are written about a second after they happen, in one batch for all projects: the
  // tests that wait for them run together, each on its own project, rather than wait in turn.
  test.concurrent.for(REFUSALS)(
    'shows an envelope refused as %s',
    async ([reason, send], { server, project, expect }) => {
      expect(await send(server, project)).toBeGreaterThanOrEqual(400);

      expect(await statsOnceRefused(server, project, 1)).toEqual({
        ...NOTHING,
        refusedEnvelopes: 1,
        refused: [{ reason, count: 1 }],
      });
    },
  );

  test.concurrent('shows envelopes refused as rate_limited, and the ones let through as accepted', async ({
    server,
    project,
    expect,
  }) => {
    const statuses: number[] = [];
    // The bucket holds PER_MINUTE envelopes and refills slowly: send until one is refused.
    while (!statuses.includes(429) && statuses.length < PER_MINUTE * 3) {
      statuses.push(
        (await postEnvelope(server.envelopeUrl(project), buildEnvelope([sessionItem()]))).status,
      );
    }
    const passed = statuses.filter((s) => s === 200).length;
    expect(statuses.at(-1)).toBe(429);

    expect(await statsOnceRefused(server, project, 1)).toEqual({
      ...NOTHING,
      acceptedSessions: passed,
      refusedEnvelopes: 1,
      refused: [{ reason: 'rate_limited', count: 1 }],
    });
  });

  test.concurrent('counts no refusal for a project id that does not exist', async ({
    server,
    project,
    expect,
  }) => {
    const missing = project.id + 100_000;
    const response = await postEnvelope(
      server.envelopeUrl({ id: missing, publicKey: project.publicKey }),
      buildEnvelope([sessionItem()]),
    );
    expect(response.status).toBe(403);
    // A refusal of the real project written after it shows the batch was written.
    await postEnvelope(`${server.url}/api/${project.id}/envelope/`, buildEnvelope([sessionItem()]));
    await statsOnceRefused(server, project, 1);
    const rows = await server.db.prisma.ingestOutcome.count({ where: { projectId: missing } });
    expect(rows).toBe(0);
  });
});

describe('Organization.ingestStats', () => {
  test('sums the projects of the organization, and only those', async ({ server }) => {
    const org = `o-${randomBytes(4).toString('hex')}`;
    await expectData(
      server,
      `mutation ($org: String!) { createOrganization(input: { slug: $org, name: $org }) { __typename } }`,
      { org },
    );
    const dsns: string[] = [];
    for (const slug of ['a', 'b']) {
      const result = await server.gql<{
        createProject: { project: { projectId: number; keys: Array<{ publicKey: string }> } };
      }>(
        `mutation ($org: String!, $slug: String!) {
          createProject(input: { organizationSlug: $org, slug: $slug, name: $slug, platform: "python" }) {
            ... on CreateProjectSuccess { project { projectId keys { publicKey } } }
          }
        }`,
        { org, slug },
      );
      const project = result.data?.createProject.project;
      if (!project) throw new Error(JSON.stringify(result));
      dsns.push(
        server.envelopeUrl({ id: project.projectId, publicKey: project.keys[0]?.publicKey ?? '' }),
      );
    }
    await postEnvelope(
      dsns[0] ?? '',
      buildEnvelope([sessionItem(), sessionItem({ status: 'bad' })]),
    );
    await postEnvelope(dsns[1] ?? '', buildEnvelope([sessionItem(), aggregates(5)]));

    const result = await expectData<{ organization: { ingestStats: { totals: Counts } } }>(
      server,
      `query ($org: String!) { organization(slug: $org) { ingestStats(period: "24h") { totals { ${COUNTS} } } } }`,
      { org },
    );
    expect(result.organization.ingestStats.totals).toEqual({
      ...NOTHING,
      acceptedSessions: 2,
      aggregatedSessions: 5,
      droppedItems: 1,
      dropped: [{ reason: 'invalid_status', count: 1 }],
    });
  });
});

describe('ingestStats arguments', () => {
  test.for([
    ['(period: "3x")', 'period'],
    ['(interval: "10s")', 'interval'],
    ['(period: "30d", interval: "1m")', 'interval'],
    ['(start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z")', 'start'],
    ['(period: "1d", start: "2026-01-01T00:00:00Z")', 'period'],
  ])('refuses %s, naming %s', async ([args, field], { server, project }) => {
    const result = await server.gql(
      `query ($org: String!, $slug: String!) {
        project(organizationSlug: $org, slug: $slug) { ingestStats${args} { totals { acceptedSessions } } }
      }`,
      { org: project.organizationSlug, slug: project.slug },
    );
    expect(result.errors?.map((e) => e.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field }]);
  });
});
