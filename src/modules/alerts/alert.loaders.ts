import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import {
  type AlertRuleRow,
  selectAlertRulesByIds,
  selectAlertRulesByProjectIds,
} from './alert-rule.queries.ts';
import {
  type IncidentPage,
  type IncidentRow,
  selectIncidentsByIds,
  selectIncidentsByProjectId,
} from './incident.queries.ts';

export function createAlertLoaders(db: Database) {
  return {
    alertRuleById: new DataLoader<number, AlertRuleRow | null>(
      async (ids) => {
        const byId = new Map((await selectAlertRulesByIds(db, ids)).map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'alertRuleById' },
    ),
    alertRulesByProjectId: new DataLoader<number, AlertRuleRow[]>(
      async (ids) => {
        const rows = await selectAlertRulesByProjectIds(db, ids);
        const byProject = groupBy(rows, (r) => r.projectId);
        return ids.map((id) => byProject.get(id) ?? []);
      },
      { name: 'alertRulesByProjectId' },
    ),
    incidentById: new DataLoader<number, IncidentRow | null>(
      async (ids) => {
        const byId = new Map((await selectIncidentsByIds(db, ids)).map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'incidentById' },
    ),
    /** Project.incidents: one page per project, one loader per page arguments. */
    incidentsByProjectId: loaderFamily(
      (page: IncidentPage) =>
        new DataLoader<number, IncidentRow[], string>(
          (ids) =>
            Promise.all(
              ids.map((projectId) => selectIncidentsByProjectId(db, { ...page, projectId })),
            ),
          { name: 'incidentsByProjectId', cacheKeyFn: String },
        ),
    ),
  };
}
