import './errors.schema.ts';
import '../modules/organizations/organization.schema.ts';
import '../modules/projects/project.schema.ts';
import '../modules/environments/environment.schema.ts';
import '../modules/releases/release.schema.ts';
import '../modules/release-health/health.schema.ts';
import '../modules/release-health/release-health.schema.ts';
import '../modules/sessions/sessions.schema.ts';
import '../modules/ingest-stats/ingest-stats.schema.ts';
import '../modules/api-tokens/api-token.schema.ts';
import '../modules/health-targets/health-target.schema.ts';
import '../modules/alerts/alert-rule.schema.ts';
import '../modules/alerts/incident.schema.ts';
import '../modules/alerts/alert-preview.schema.ts';
import '../modules/webhooks/webhook.schema.ts';
import { builder } from './builder.ts';

/** The whole API. Only app.ts and scripts import this file. */
export const schema = builder.toSchema({ sortSchema: true });
