import { type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// PostgreSQL text cannot hold NUL (the statement fails), and an unpaired surrogate has no UTF-8
// form (the driver would store U+FFFD instead). Either in a string argument, literal or variable,
// is the client's bad input, refused before anything runs, whatever field it was meant for.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const isBadString = (value: string) => value.includes('\u0000') || UNPAIRED_SURROGATE.test(value);

function badInput(where: string, nodes?: GraphQLError['nodes']) {
  return new GraphQLError(
    `${where} contains a NUL character or an unpaired surrogate, which cannot be stored.`,
    { nodes, extensions: { code: 'BAD_USER_INPUT' } },
  );
}

/** The first bad string literal in `document`, remembered per parsed document (yoga caches them). */
const literalErrors = new WeakMap<DocumentNode, GraphQLError | null>();

function checkLiterals(document: DocumentNode): GraphQLError | null {
  let found = literalErrors.get(document);
  if (found !== undefined) return found;
  found = null;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (found === null && isBadString(node.value)) found = badInput('A string argument', [node]);
    },
  });
  literalErrors.set(document, found);
  return found;
}

function hasBadString(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return isBadString(value);
  if (typeof value !== 'object' || value === null || depth > 32) return false;
  return Object.values(value).some((v) => hasBadString(v, depth + 1));
}

/** Refuses string input that cannot be stored with BAD_USER_INPUT, before any resolver runs. */
export function useStringInputGuard(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = Object.entries(args.variableValues ?? {});
      const error =
        checkLiterals(args.document) ??
        variables
          .filter(([, value]) => hasBadString(value))
          .map(([name]) => badInput(`Variable $${name}`))[0];
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
