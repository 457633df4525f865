import { type ExecutionResult, GraphQLError } from 'graphql';
import { describe, expect, test } from 'vitest';
import { createResponseStore } from '../../src/cache/response-store.ts';

// The response store's coalescing, driven exactly as the plugin drives it (begin, get; then for
// the computing request answering, set or refusal, finish) in interleavings a server cannot
// produce on demand: changes announced while a computation runs, readers before and after them.
// The served numbers through a real server and database: response-cache.test.ts.

const ORG = 'o1/token:1/100/digest';
const ADMIN = 'a/admin/100/digest';
const answer = (n: number): ExecutionResult => ({ data: { n } });

function storeWithAsk() {
  const store = createResponseStore();
  /** One request arriving for `key`: what its lookup gives (a promise: it waits). */
  const ask = (key: string) => {
    const request = new Request('http://vigil.test/graphql');
    store.begin(key, request);
    return { request, got: store.cache.get(key) };
  };
  /** The request computed `result`: the plugin's steps after execution, then the response. */
  const compute = (
    key: string,
    request: Request,
    result: ExecutionResult,
    typenames = ['Query'],
  ) => {
    store.answering(request);
    if (result.errors) store.failed(key, result);
    else
      store.cache.set(
        key,
        result,
        typenames.map((typename) => ({ typename })),
        60_000,
      );
    store.finish(request);
  };
  return { store, ask, compute };
}

const PENDING = Symbol('pending');
/** What a lookup has given so far, without waiting for it. */
async function now(got: unknown) {
  return Promise.race([got, new Promise((resolve) => setImmediate(() => resolve(PENDING)))]);
}

describe('response store: one computation per key and change', () => {
  test('readers that arrive after a change share one new computation, not one each', async () => {
    const { store, ask, compute } = storeWithAsk();
    const first = ask(ORG);
    expect(await now(first.got)).toBeNull();
    const early = ask(ORG);
    store.apply({ projects: [7], organizations: [1] });
    const late = [ask(ORG), ask(ORG), ask(ORG)];
    // The first late reader computes; the others wait for it, not for the first computation.
    expect(await now(late[0]?.got)).toBeNull();
    expect(await now(late[1]?.got)).toBe(PENDING);
    compute(ORG, first.request, answer(1));
    expect(await now(early.got)).toEqual(answer(1));
    expect(await now(late[1]?.got)).toBe(PENDING);
    expect(await now(late[2]?.got)).toBe(PENDING);
    compute(ORG, late[0]?.request as Request, answer(2));
    expect(await now(late[1]?.got)).toEqual(answer(2));
    expect(await now(late[2]?.got)).toEqual(answer(2));
    // Begun after the change and none since: kept. The first answer was not.
    expect(await now(ask(ORG).got)).toEqual(answer(2));
  });

  test('a reader after a second change does not take the answer begun before it', async () => {
    const { store, ask, compute } = storeWithAsk();
    const first = ask(ORG);
    store.apply({ organizations: [1] });
    const second = ask(ORG);
    const joined = ask(ORG);
    store.apply({ organizations: [1] });
    const third = ask(ORG);
    expect(await now(third.got)).toBeNull();
    compute(ORG, second.request, answer(2));
    expect(await now(joined.got)).toEqual(answer(2));
    // Reads of the second computation began before the second change: not kept.
    const after = ask(ORG);
    expect(await now(after.got)).toBe(PENDING);
    compute(ORG, third.request, answer(3));
    expect(await now(after.got)).toEqual(answer(3));
    compute(ORG, first.request, answer(1));
    expect(await now(ask(ORG).got)).toEqual(answer(3));
  });

  test('a change elsewhere splits nobody; the admin’s answers split on any organization', async () => {
    const { store, ask, compute } = storeWithAsk();
    const org = ask(ORG);
    const admin = ask(ADMIN);
    store.apply({ projects: [9], organizations: [2] });
    const orgWaiter = ask(ORG);
    const adminLate = ask(ADMIN);
    expect(await now(orgWaiter.got)).toBe(PENDING);
    expect(await now(adminLate.got)).toBeNull();
    compute(ORG, org.request, answer(1));
    expect(await now(orgWaiter.got)).toEqual(answer(1));
    compute(ADMIN, admin.request, answer(1));
    compute(ADMIN, adminLate.request, answer(2));
    expect(await now(ask(ADMIN).got)).toEqual(answer(2));
  });

  test('a type change splits waiters; an answer with that type begun before it is not kept', async () => {
    const { store, ask, compute } = storeWithAsk();
    const first = ask(ORG);
    store.apply({ types: ['ApiToken'] });
    const late = ask(ORG);
    expect(await now(late.got)).toBeNull();
    compute(ORG, first.request, answer(1), ['Query', 'ApiToken']);
    const next = ask(ORG);
    expect(await now(next.got)).toBe(PENDING);
    compute(ORG, late.request, answer(2), ['Query', 'ApiToken']);
    expect(await now(next.got)).toEqual(answer(2));
  });

  test('waiters of an answer with errors get that answer; nothing is kept', async () => {
    const { ask, compute } = storeWithAsk();
    const first = ask(ORG);
    const waiters = [ask(ORG), ask(ORG)];
    const failure: ExecutionResult = { data: null, errors: [new GraphQLError('unavailable')] };
    compute(ORG, first.request, failure);
    for (const w of waiters) expect(await now(w.got)).toBe(failure);
    const again = ask(ORG);
    expect(await now(again.got)).toBeNull();
  });

  test('a leader that ends without an answer hands its waiters to one of them', async () => {
    const { store, ask, compute } = storeWithAsk();
    const first = ask(ORG);
    const waiters = [ask(ORG), ask(ORG), ask(ORG)];
    store.finish(first.request);
    // One goes on (null: compute), the others now wait for it.
    expect(await now(waiters[0]?.got)).toBeNull();
    expect(await now(waiters[1]?.got)).toBe(PENDING);
    compute(ORG, waiters[0]?.request as Request, answer(1));
    expect(await now(waiters[1]?.got)).toEqual(answer(1));
    expect(await now(waiters[2]?.got)).toEqual(answer(1));
  });

  test('if the one handed over ends without an answer too, the rest go on each', async () => {
    const { store, ask } = storeWithAsk();
    const first = ask(ORG);
    const waiters = [ask(ORG), ask(ORG), ask(ORG)];
    store.finish(first.request);
    expect(await now(waiters[0]?.got)).toBeNull();
    store.finish(waiters[0]?.request as Request);
    expect(await now(waiters[1]?.got)).toBeNull();
    expect(await now(waiters[2]?.got)).toBeNull();
  });

  test('a key of no known scope is computed by each request and never kept', async () => {
    const { ask, compute } = storeWithAsk();
    const bad = 'x9/token:1/100/digest';
    const first = ask(bad);
    const second = ask(bad);
    expect(await now(first.got)).toBeNull();
    expect(await now(second.got)).toBeNull();
    compute(bad, first.request, answer(1));
    expect(await now(ask(bad).got)).toBeNull();
  });

  test('an answer set by a request that leads nothing is not kept', async () => {
    const { store, ask } = storeWithAsk();
    const stranger = new Request('http://vigil.test/graphql');
    store.answering(stranger);
    store.cache.set(ORG, answer(1), [{ typename: 'Query' }], 60_000);
    expect(await now(ask(ORG).got)).toBeNull();
  });
});
