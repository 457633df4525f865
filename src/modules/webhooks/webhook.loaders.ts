import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import {
  type AttemptRow,
  type DeliveryRow,
  selectAttemptsByDeliveryIds,
  selectDeliveriesByWebhookIds,
  selectWebhooksByIds,
  selectWebhooksByOrganizationIds,
  type WebhookRow,
} from './webhook.queries.ts';

export function createWebhookLoaders(db: Database) {
  return {
    webhookById: new DataLoader<number, WebhookRow | null>(
      async (ids) => {
        const byId = new Map((await selectWebhooksByIds(db, ids)).map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'webhookById' },
    ),
    webhooksByOrganizationId: new DataLoader<number, WebhookRow[]>(
      async (ids) => {
        const rows = await selectWebhooksByOrganizationIds(db, ids);
        const byOrg = groupBy(rows, (r) => r.organizationId);
        return ids.map((id) => byOrg.get(id) ?? []);
      },
      { name: 'webhooksByOrganizationId' },
    ),
    /** Webhook.deliveries: the newest `first` of each webhook, one loader per `first`. */
    webhookDeliveriesByWebhookId: loaderFamily(
      (first: number) =>
        new DataLoader<number, DeliveryRow[], string>(
          async (ids) => {
            const rows = await selectDeliveriesByWebhookIds(db, ids, first);
            const byHook = groupBy(rows, (r) => r.webhookId);
            return ids.map((id) => byHook.get(id) ?? []);
          },
          { name: 'webhookDeliveriesByWebhookId', cacheKeyFn: String },
        ),
      String,
    ),
    webhookAttemptsByDeliveryId: new DataLoader<number, AttemptRow[]>(
      async (ids) => {
        const byDelivery = groupBy(await selectAttemptsByDeliveryIds(db, ids), (r) => r.deliveryId);
        return ids.map((id) => byDelivery.get(id) ?? []);
      },
      { name: 'webhookAttemptsByDeliveryId' },
    ),
  };
}
