import type { Database } from '../db/client.ts';
import { createAlertLoaders } from '../modules/alerts/alert.loaders.ts';
import { createApiTokenLoaders } from '../modules/api-tokens/api-token.loaders.ts';
import { createEnvironmentLoaders } from '../modules/environments/environment.loaders.ts';
import { createHealthTargetLoaders } from '../modules/health-targets/health-target.loaders.ts';
import { createIngestStatsLoaders } from '../modules/ingest-stats/ingest-stats.loaders.ts';
import { createOrganizationLoaders } from '../modules/organizations/organization.loaders.ts';
import { createProjectLoaders } from '../modules/projects/project.loaders.ts';
import {
  createReleaseHealthLoaders,
  type ReleaseHealthCaches,
} from '../modules/release-health/release-health.loaders.ts';
import { createReleaseLoaders } from '../modules/releases/release.loaders.ts';
import { createSessionsLoaders } from '../modules/sessions/sessions.loaders.ts';
import { createWebhookLoaders } from '../modules/webhooks/webhook.loaders.ts';

/** Every DataLoader in the API, fresh for each request so no cache outlives it. */
/** Caches that outlive a request: only values defined to change at most once a minute. */
export type SharedCaches = ReleaseHealthCaches;

export function createLoaders(db: Database, now: Date, caches: SharedCaches) {
  return {
    ...createOrganizationLoaders(db),
    ...createProjectLoaders(db),
    ...createReleaseLoaders(db),
    ...createEnvironmentLoaders(db),
    ...createReleaseHealthLoaders(db, now, caches),
    ...createSessionsLoaders(db),
    ...createIngestStatsLoaders(db),
    ...createApiTokenLoaders(db),
    ...createHealthTargetLoaders(db),
    ...createAlertLoaders(db),
    ...createWebhookLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
