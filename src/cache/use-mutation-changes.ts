import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/client.ts';
import { publishDataChange } from './data-changes.ts';

/**
 * Tells every process that anything may have changed once a mutation has run (its writes are
 * committed by then): the simplest rule that is exact, and mutations are rare next to reads. On
 * whether or not this process caches answers, since other processes may.
 */
export function useMutationChanges(db: Database, onError: (error: unknown) => void): Plugin {
  return {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      return { onExecuteDone: () => void publishDataChange(db, { all: true }, onError) };
    },
  };
}
