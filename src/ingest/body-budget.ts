// The memory request bodies may hold at once. Bodies stream, and what a request keeps is the
// payloads of its session items: an SDK's envelope keeps a few kilobytes. Each request keeps up
// to `allowance` bytes of its own, so ordinary envelopes never wait on others; beyond that it
// draws from one pool shared by every request, and is refused when the pool is spent.

/** The pool is spent: answered 503 with Retry-After, since the same bytes will pass later. */
export class BodyBudgetError extends Error {
  override name = 'BodyBudgetError';
}

export interface BodyBudgetOptions {
  /** Bytes shared by all requests past their allowance. */
  pool: number;
  /** Bytes each request keeps without drawing from the pool. */
  allowance: number;
}

export function createBodyBudget({ pool, allowance }: BodyBudgetOptions) {
  let drawn = 0;
  return {
    /** Bytes drawn from the pool right now. */
    get drawn() {
      return drawn;
    },
    /** One request's account; `release()` it when the request is answered. */
    open() {
      let kept = 0;
      let fromPool = 0;
      return {
        /** Accounts for `bytes` more kept by this request; throws when the pool cannot give them. */
        retain(bytes: number) {
          kept += bytes;
          const need = kept - allowance - fromPool;
          if (need <= 0) return;
          if (drawn + need > pool) {
            throw new BodyBudgetError('too many large envelopes at once; try again');
          }
          drawn += need;
          fromPool += need;
        },
        release() {
          drawn -= fromPool;
          fromPool = 0;
          kept = 0;
        },
      };
    },
  };
}
