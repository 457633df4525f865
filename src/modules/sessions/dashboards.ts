import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';

// The Session Health dashboards are named GraphQL documents in dashboards/*.graphql. A frontend
// ships them as persisted operations: it sends the SHA-256 of a document's text instead of the
// text (`extensions.persistedQuery.sha256Hash`, the APQ request shape), and Vigil looks it up here.

/** dashboards/ at the repository root. */
export const DASHBOARDS_DIR = new URL('../../../dashboards/', import.meta.url);

export interface DashboardDocument {
  /** The file name without `.graphql`, e.g. `session-health`. */
  name: string;
  /** The document's one operation, e.g. `SessionHealth`. */
  operationName: string;
  /** The file's text, exactly: what a frontend hashes and what Vigil executes. */
  text: string;
  /** Hex SHA-256 of `text`: the persisted operation id. */
  sha256: string;
}

/** Reads every dashboard document; throws when one is not a single named operation. */
export function loadDashboards(dir: URL = DASHBOARDS_DIR): DashboardDocument[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const operations = parse(text).definitions.filter(
        (d) => d.kind === Kind.OPERATION_DEFINITION,
      );
      const operationName = operations[0]?.name?.value;
      if (operations.length !== 1 || !operationName) {
        throw new Error(`dashboards/${file} must hold exactly one named operation`);
      }
      return {
        name: file.slice(0, -'.graphql'.length),
        operationName,
        text,
        sha256: createHash('sha256').update(text).digest('hex'),
      };
    });
}

/** Persisted operation id → document text, for the persisted-operations plugin. */
export function persistedDashboardOperations(dir: URL = DASHBOARDS_DIR): Map<string, string> {
  return new Map(loadDashboards(dir).map((d) => [d.sha256, d.text]));
}
