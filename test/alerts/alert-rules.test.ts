import { describe, expect } from 'vitest';
import { updateAdoptionStages } from '../../src/jobs/adoption-monitor.ts';
import { evaluateAlertRules } from '../../src/jobs/alert-evaluator.ts';
import { createToken } from '../auth/access-support.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
import {
  CREATE_ALERT_RULE,
  CREATE_WEBHOOK,
  createAlertOrg,
  createRule,
  incidentsOf,
  minutes,
  sendSessions,
} from './alert-support.ts';

// Rules' input, the regression kind, health status and the preview.

const RULES = /* GraphQL */ `
  query ($org: String!, $project: String!) {
    project(organizationSlug: $org, slug: $project) { alertRules { id name } }
    organization(slug: $org) { webhooks { id } }
  }`;

describe('alert rule input', { timeout: 120_000 }, () => {
  test('bad input gets a clear error naming the field, and changes nothing', async ({ server }) => {
    const org = await createAlertOrg(server);
    const other = await createAlertOrg(server);
    const base = {
      organizationSlug: org.slug,
      projectSlug: org.projectSlug,
      name: 'crashes',
      metric: 'CRASH_FREE_SESSIONS',
      threshold: 99,
    };
    const create = (input: Record<string, unknown>, token?: string) =>
      server.gql<{ createAlertRule: { __typename: string; message: string; field?: string } }>(
        CREATE_ALERT_RULE,
        { input: { ...base, ...input } },
        token === undefined ? undefined : { token },
      );

    const unknownMetric = await create({ metric: 'CRASHINESS' });
    expect(unknownMetric.errors?.[0]?.message).toMatch(/CRASHINESS.*AlertMetric/);
    for (const [input, field, message] of [
      [{ window: '3h' }, 'window', /Unknown window "3h": use one of 30m, 1h, 2h, 4h, 12h, 24h/],
      [{ threshold: 101 }, 'threshold', /between 0 and 100/],
      [{ threshold: -1 }, 'threshold', /between 0 and 100/],
      [{ resolveThreshold: 98 }, 'resolveThreshold', /healthy side/],
      [{ releases: { select: 'NAMED' } }, 'releases', /version/],
      [{ name: ' ' }, 'name', /1 to 100/],
    ] as const) {
      const result = await create(input);
      expect(result.data?.createAlertRule, JSON.stringify(input)).toMatchObject({
        __typename: 'InvalidArgumentError',
        field,
        message: expect.stringMatching(message),
      });
    }
    // A token administering another organization may not put a rule in this one.
    const stranger = await createToken(server, other.slug, ['ORG_ADMIN']);
    expect((await create({}, stranger.token)).data?.createAlertRule).toMatchObject({
      __typename: 'ForbiddenError',
    });
    // Nor may a read-only token of this organization.
    const reader = await createToken(server, org.slug, ['ORG_READ']);
    expect((await create({}, reader.token)).data?.createAlertRule).toMatchObject({
      __typename: 'ForbiddenError',
    });
    const hook = await server.gql<{ createWebhook: { __typename: string; field: string } }>(
      CREATE_WEBHOOK,
      {
        input: {
          organizationSlug: org.slug,
          url: 'ftp://example.com/x',
          events: ['INCIDENT_OPENED'],
        },
      },
    );
    expect(hook.data?.createWebhook).toMatchObject({
      __typename: 'InvalidArgumentError',
      field: 'url',
    });

    const after = await expectData<{
      project: { alertRules: unknown[] };
      organization: { webhooks: unknown[] };
    }>(server, RULES, { org: org.slug, project: org.projectSlug });
    expect(after).toEqual({ project: { alertRules: [] }, organization: { webhooks: [] } });

    // The same input, corrected, is accepted: the failures above were about the input.
    expect((await create({})).data?.createAlertRule.__typename).toBe('CreateAlertRuleSuccess');
  });

  test('updateAlertRule changes the fields given, deleteAlertRule removes the rule', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    const id = await createRule(server, org, { metric: 'CRASH_RATE_USERS', threshold: 5 });
    const updated = await expectData<{
      updateAlertRule: {
        alertRule: {
          threshold: number;
          resolveThreshold: number;
          comparison: string;
          window: string;
        };
      };
    }>(
      server,
      `mutation ($id: ID!) { updateAlertRule(input: { id: $id, threshold: 3, window: "4h" }) { ... on UpdateAlertRuleSuccess { alertRule { threshold resolveThreshold comparison window } } } }`,
      { id },
    );
    expect(updated.updateAlertRule.alertRule).toEqual({
      threshold: 3,
      resolveThreshold: 3,
      comparison: 'ABOVE',
      window: '4h',
    });
    await expectData(
      server,
      `mutation ($id: ID!) { deleteAlertRule(input: { id: $id }) { __typename } }`,
      { id },
    );
    const after = await expectData<{ project: { alertRules: unknown[] } }>(server, RULES, {
      org: org.slug,
      project: org.projectSlug,
    });
    expect(after.project.alertRules).toEqual([]);
  });
});

describe('regression rules', { timeout: 180_000 }, () => {
  test('fire when the new adopted release is N points worse than the one it replaced, and not when that one had too few sessions', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    const weak = await createAlertOrg(server);
    for (const o of [org, weak]) {
      await createRule(server, o, {
        kind: 'REGRESSION',
        metric: 'CRASH_FREE_SESSIONS',
        threshold: 10,
        minSessions: 8,
        window: '1h',
      });
    }
    // Old release: 10 healthy sessions (100 %) in org; only 4 in weak (below minSessions).
    await sendSessions(org.dsn, 10, 'exited', { release: 'app@1.0.0' });
    await sendSessions(weak.dsn, 4, 'exited', { release: 'app@1.0.0' });
    const tick = minutes();
    await updateAdoptionStages(server.db, tick());
    // New release: 3 of 10 crashed (70 %), 30 points worse.
    for (const o of [org, weak]) {
      await sendSessions(o.dsn, 7, 'exited', { release: 'app@2.0.0' });
      await sendSessions(o.dsn, 3, 'crashed', { release: 'app@2.0.0' });
    }
    await updateAdoptionStages(server.db, tick());
    await evaluateAlertRules(server.db, { now: tick() });

    const [incident, ...rest] = await incidentsOf(server, org);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      status: 'OPEN',
      environment: 'production',
      release: { version: 'app@2.0.0' },
      baselineRelease: { version: 'app@1.0.0' },
      baselineValue: 100,
    });
    expect(incident?.value).toBeCloseTo(70, 5);
    expect(await incidentsOf(server, weak)).toEqual([]);
  });
});

describe('health status and preview', { timeout: 120_000 }, () => {
  test('ReleaseHealth.status follows the targets and NOT_ENOUGH_DATA guards small releases', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    await sendSessions(org.dsn, 19, 'exited', { release: 'good@1' });
    await sendSessions(org.dsn, 9, 'exited', { release: 'bad@1' });
    await sendSessions(org.dsn, 1, 'crashed', { release: 'bad@1' });
    await sendSessions(org.dsn, 2, 'crashed', { release: 'tiny@1' });
    const set = await server.gql<{ setHealthTarget: { __typename: string } }>(
      `mutation ($input: SetHealthTargetInput!) { setHealthTarget(input: $input) { __typename ... on InvalidArgumentError { field } } }`,
      {
        input: {
          organizationSlug: org.slug,
          projectSlug: org.projectSlug,
          crashFreeSessionsTarget: 95,
          crashFreeSessionsCritical: 92,
          crashFreeUsersTarget: 95,
          crashFreeUsersCritical: 80,
          minSessions: 5,
          minUsers: 1,
        },
      },
    );
    expect(set.data?.setHealthTarget.__typename).toBe('SetHealthTargetSuccess');
    const data = await expectData<{
      project: {
        releases: { edges: Array<{ node: { version: string; health: { status: string } } }> };
      };
    }>(
      server,
      `query ($org: String!, $project: String!) { project(organizationSlug: $org, slug: $project) {
        releases(sort: HEALTH_STATUS) { edges { node { version health { ... on ReleaseHealth { status } } } } } } }`,
      { org: org.slug, project: org.projectSlug },
    );
    // bad@1: 90 % crash-free sessions (critical below 92); users 90 % (warning only).
    expect(data.project.releases.edges.map((e) => [e.node.version, e.node.health.status])).toEqual([
      ['bad@1', 'CRITICAL'],
      ['good@1', 'HEALTHY'],
      ['tiny@1', 'NOT_ENOUGH_DATA'],
    ]);
    const bad = await server.gql<{ setHealthTarget: { __typename: string; field: string } }>(
      `mutation ($input: SetHealthTargetInput!) { setHealthTarget(input: $input) { __typename ... on InvalidArgumentError { field } } }`,
      {
        input: {
          organizationSlug: org.slug,
          projectSlug: org.projectSlug,
          crashFreeSessionsTarget: 120,
        },
      },
    );
    expect(bad.data?.setHealthTarget).toEqual({
      __typename: 'InvalidArgumentError',
      field: 'crashFreeSessionsTarget',
    });
  });

  test('previewAlertRule says when a rule would have opened an incident, and saves nothing', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    await sendSessions(org.dsn, 5, 'exited');
    await sendSessions(org.dsn, 5, 'crashed');
    const input = {
      organizationSlug: org.slug,
      projectSlug: org.projectSlug,
      name: 'preview',
      metric: 'CRASH_FREE_SESSIONS',
      threshold: 90,
      minSessions: 10,
    };
    const preview = await expectData<{
      previewAlertRule: {
        preview: {
          evaluations: number;
          incidents: Array<{
            release: { version: string };
            openValue: number;
            resolvedAt: string | null;
          }>;
        };
      };
    }>(
      server,
      `mutation ($input: CreateAlertRuleInput!) { previewAlertRule(input: $input) { ... on PreviewAlertRuleSuccess { preview { evaluations incidents { release { version } openValue resolvedAt } } } } }`,
      { input },
    );
    expect(preview.previewAlertRule.preview.evaluations).toBe(336);
    expect(preview.previewAlertRule.preview.incidents).toEqual([
      { release: { version: 'app@1.0.0' }, openValue: 50, resolvedAt: null },
    ]);
    // With a minimum it never reaches, nothing would have fired.
    const quiet = await expectData<{ previewAlertRule: { preview: { incidents: unknown[] } } }>(
      server,
      `mutation ($input: CreateAlertRuleInput!) { previewAlertRule(input: $input) { ... on PreviewAlertRuleSuccess { preview { incidents { openedAt } } } } }`,
      { input: { ...input, minSessions: 11 } },
    );
    expect(quiet.previewAlertRule.preview.incidents).toEqual([]);
    expect(await incidentsOf(server, org)).toEqual([]);
  });
});
