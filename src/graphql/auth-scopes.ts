import { canAdminister, canRead } from '../auth/principal.ts';
import type { Context } from './context.ts';

// The scopes every authScopes declaration in the schema is written in (docs/design.md
// § Authorization). The instance admin passes every scope. A scope that names something that
// does not exist fails, exactly as one outside the token's organization: nothing leaks.

/** A parsed global id, as the relay plugin hands it to authScopes functions. */
export interface GlobalId {
  typename: string;
  /** Already parsed by the node type's `parse` when it has one. */
  id: string | number;
}

export interface AuthScopes {
  /** VIGIL_ADMIN_TOKEN or the token generated at first start. */
  instanceAdmin: boolean;
  /** Any valid token; fields with this rule filter what they return through the scopes below. */
  authenticated: boolean;
  /** ORG_READ or ORG_ADMIN in the organization with this id. */
  readOrganization: number;
  /** ORG_ADMIN in the organization with this id. */
  administerOrganization: number;
  readOrganizationSlug: string;
  administerOrganizationSlug: string;
  /** Read access to the project with this id (its organization's). */
  readProject: number;
  administerProject: number;
  /** Whatever rule the node's own type declares, looked up by its global id. */
  readNode: GlobalId;
  administerApiToken: number;
  administerProjectKey: number;
  /** ORG_ADMIN of the organization that owns the alert rule / webhook with this id. */
  administerAlertRule: number;
  administerWebhook: number;
}

/** The scope initializer: how one request's principal answers each scope. */
export function createAuthScopes(ctx: Context) {
  const { principal, loaders } = ctx;
  const admin = principal.kind === 'admin';
  const organizationOfProject = async (id: number) =>
    (await loaders.projectById.load(id))?.organizationId;
  const read = (organizationId: number | null | undefined) =>
    organizationId != null && canRead(principal, organizationId);
  const administer = (organizationId: number | null | undefined) =>
    organizationId != null && canAdminister(principal, organizationId);
  return {
    instanceAdmin: admin,
    authenticated: true,
    readOrganization: (id: number) => read(id),
    administerOrganization: (id: number) => administer(id),
    readOrganizationSlug: async (slug: string) =>
      admin || read((await loaders.organizationBySlug.load(slug))?.id),
    administerOrganizationSlug: async (slug: string) =>
      admin || administer((await loaders.organizationBySlug.load(slug))?.id),
    readProject: async (id: number) => admin || read(await organizationOfProject(id)),
    administerProject: async (id: number) => admin || administer(await organizationOfProject(id)),
    readNode: async ({ typename, id }: GlobalId) => {
      if (admin) return true;
      const key = Number(id);
      if (!Number.isSafeInteger(key) || key <= 0) return false;
      switch (typename) {
        case 'Organization':
          return read(key);
        case 'Project':
          return read(await organizationOfProject(key));
        case 'Release':
          return read((await loaders.releaseById.load(key))?.organizationId);
        case 'ProjectKey': {
          const projectKey = await loaders.projectKeyById.load(key);
          return !!projectKey && read(await organizationOfProject(projectKey.projectId));
        }
        case 'AlertRule': {
          const rule = await loaders.alertRuleById.load(key);
          return !!rule && read(await organizationOfProject(rule.projectId));
        }
        case 'Incident':
          return read((await loaders.incidentById.load(key))?.organizationId);
        case 'Webhook':
          return read((await loaders.webhookById.load(key))?.organizationId);
        case 'ApiToken':
          return administer((await loaders.apiTokenById.load(key))?.organizationId);
        default:
          return false;
      }
    },
    administerApiToken: async (id: number) => {
      const token = await loaders.apiTokenById.load(id);
      // Instance admin tokens (no organization) are the instance admin's alone.
      return admin || administer(token?.organizationId);
    },
    administerProjectKey: async (id: number) => {
      const key = await loaders.projectKeyById.load(id);
      return admin || (!!key && administer(await organizationOfProject(key.projectId)));
    },
    administerAlertRule: async (id: number) => {
      const rule = await loaders.alertRuleById.load(id);
      return admin || (!!rule && administer(await organizationOfProject(rule.projectId)));
    },
    administerWebhook: async (id: number) =>
      admin || administer((await loaders.webhookById.load(id))?.organizationId),
  };
}
