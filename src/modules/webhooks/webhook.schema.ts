import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { deliverDueWebhooks } from '../../jobs/webhook-deliverer.ts';
import { OrganizationRef } from '../organizations/organization.schema.ts';
import {
  type AttemptRow,
  type DeliveryRow,
  insertWebhook,
  insertWebhookDeliveries,
  selectDeliveryById,
  updateWebhookDeleted,
  type WebhookRow,
} from './webhook.queries.ts';
import { EVENT_TYPE, WEBHOOK_EVENTS, webhookBody } from './webhook-payload.ts';
import { newWebhookSecret } from './webhook-signature.ts';

// Webhooks of an organization: created and removed by ORG_ADMIN, read by ORG_READ. The signing
// secret is returned once, by createWebhook; deliveries and their attempts stay readable.

const WebhookEventEnum = builder.enumType('WebhookEvent', {
  description:
    'INCIDENT_OPENED: body type "incident.opened"; INCIDENT_RESOLVED: "incident.resolved".',
  values: WEBHOOK_EVENTS,
});

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description:
    'PENDING: not yet answered with 2xx, retried with backoff; FAILED: given up after 24 h.',
  values: ['PENDING', 'DELIVERED', 'FAILED'] as const,
});

const WebhookAttemptRef = builder.objectRef<AttemptRow>('WebhookAttempt').implement({
  fields: (t) => ({
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'Null: no answer.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why no answer came.' }),
    responseBody: t.exposeString('responseBody', {
      nullable: true,
      description: 'The first 1 KiB of the answer.',
    }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

const WebhookDeliveryRef = builder.objectRef<DeliveryRow>('WebhookDelivery').implement({
  fields: (t) => ({
    deliveryId: t.exposeString('deliveryId', {
      description: 'The idempotency id: body `id` and header Vigil-Delivery, on every attempt.',
    }),
    event: t.exposeString('event', { description: 'The body’s `type`.' }),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    body: t.exposeString('body', { description: 'The JSON sent, byte for byte.' }),
    attemptCount: t.exposeInt('attempts'),
    attempts: t.field({
      type: [WebhookAttemptRef],
      resolve: (d, _args, ctx) => ctx.loaders.webhookAttemptsByDeliveryId.load(d.id),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
  }),
});

export const WebhookRef = builder.objectRef<WebhookRow>('Webhook');

builder.node(WebhookRef, {
  description: 'A URL that receives signed JSON deliveries of incident events.',
  authScopes: (hook) => ({ readOrganization: hook.organizationId }),
  id: { resolve: (hook) => hook.id, parse: parseIntId },
  loadOne: async (id, ctx) => {
    const hook = await ctx.loaders.webhookById.load(id);
    return hook && !hook.deletedAt ? hook : null;
  },
  fields: (t) => ({
    url: t.exposeString('url'),
    events: t.field({
      type: [WebhookEventEnum],
      resolve: (hook) => hook.events.filter((e) => WEBHOOK_EVENTS.includes(e as never)) as never,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: 'Newest first.',
      args: { first: t.arg.int({ defaultValue: 20 }) },
      resolve: (hook, args, ctx) => {
        const first = args.first ?? 20;
        if (first < 1 || first > 100) {
          throw new InvalidArgumentError('first', 'first must lie between 1 and 100.');
        }
        return ctx.loaders.webhookDeliveriesByWebhookId(first).load(hook.id);
      },
    }),
  }),
});

builder.objectField(OrganizationRef, 'webhooks', (t) =>
  t.field({
    type: [WebhookRef],
    resolve: (org, _args, ctx) => ctx.loaders.webhooksByOrganizationId.load(org.id),
  }),
);

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    url: t.string({ required: true, description: 'http or https.' }),
    events: t.field({ type: [WebhookEventEnum], required: true }),
  }),
});

const CreateWebhookSuccess = builder
  .objectRef<{ secret: string; webhook: WebhookRow }>('CreateWebhookSuccess')
  .implement({
    fields: (t) => ({
      secret: t.exposeString('secret', {
        description: 'Signs every delivery (Vigil-Signature): shown now and never again.',
      }),
      webhook: t.field({ type: WebhookRef, resolve: (payload) => payload.webhook }),
    }),
  });

function checkUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InvalidArgumentError('url', `Not a URL: "${raw}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('url', 'A webhook URL must be http or https.');
  }
  if (url.href.length > 2048) throw new InvalidArgumentError('url', 'The URL is too long.');
  return url.href;
}

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: CreateWebhookSuccess,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      union: { name: 'CreateWebhookResult' },
      directResult: true,
    },
    resolve: async (_root, { input }, ctx) => {
      const url = checkUrl(input.url);
      if (input.events.length === 0) {
        throw new InvalidArgumentError('events', 'A webhook needs at least one event.');
      }
      const org = await ctx.loaders.organizationBySlug.load(input.organizationSlug);
      if (!org) {
        throw new NotFoundError(
          'Organization',
          `No organization has the slug "${input.organizationSlug}".`,
        );
      }
      const secret = newWebhookSecret();
      const webhook = await insertWebhook(ctx.db, {
        organizationId: org.id,
        url,
        events: [...new Set(input.events)],
        secret,
        at: ctx.now,
      });
      return { secret, webhook };
    },
  }),
);

const WebhookIdInput = (name: string) =>
  builder.inputType(name, { fields: (t) => ({ id: t.globalID({ required: true }) }) });

const hookIdOf = (id: { typename: string; id: string | number }) =>
  id.typename === 'Webhook' ? parseIntId(String(id.id)) : 0;

builder.mutationField('deleteWebhook', (t) =>
  t.field({
    type: WebhookRef,
    description: 'No delivery is sent to it any more; pending ones are dropped.',
    args: { input: t.arg({ type: WebhookIdInput('DeleteWebhookInput'), required: true }) },
    authScopes: (_root, { input }) => ({ administerWebhook: hookIdOf(input.id) }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'DeleteWebhookSuccess' },
      union: { name: 'DeleteWebhookResult' },
      dataField: { name: 'webhook' },
    },
    resolve: async (_root, { input }, ctx) => {
      const hook = await updateWebhookDeleted(ctx.db, hookIdOf(input.id), ctx.now);
      if (!hook) throw new NotFoundError('Webhook', 'No webhook has this id.');
      return hook;
    },
  }),
);

builder.mutationField('testWebhook', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description:
      'Sends a sample delivery (type "webhook.test") now and answers with its first attempt; retried like any other when it fails.',
    args: { input: t.arg({ type: WebhookIdInput('TestWebhookInput'), required: true }) },
    authScopes: (_root, { input }) => ({ administerWebhook: hookIdOf(input.id) }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'TestWebhookSuccess' },
      union: { name: 'TestWebhookResult' },
      dataField: { name: 'delivery' },
    },
    resolve: async (_root, { input }, ctx) => {
      const hook = await ctx.loaders.webhookById.load(hookIdOf(input.id));
      const org = hook && (await ctx.loaders.organizationById.load(hook.organizationId));
      if (!hook || hook.deletedAt || !org) {
        throw new NotFoundError('Webhook', 'No webhook has this id.');
      }
      const [delivery] = await ctx.db.transaction((tx) =>
        insertWebhookDeliveries(tx, {
          organizationId: hook.organizationId,
          event: 'TEST',
          webhookId: hook.id,
          at: ctx.now,
          body: (id) =>
            webhookBody({
              version: 1,
              id,
              type: EVENT_TYPE.TEST,
              createdAt: ctx.now.toISOString(),
              organization: { slug: org.slug },
              project: null,
              incident: null,
            }),
        }),
      );
      if (!delivery) throw new Error('the test delivery was not queued');
      await deliverDueWebhooks(ctx.db, { now: new Date(), onlyId: delivery.id });
      const sent = await selectDeliveryById(ctx.db, delivery.id);
      if (!sent) throw new Error('the test delivery vanished');
      return sent;
    },
  }),
);
