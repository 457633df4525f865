/**
 * A token bucket per key: `perMinute` requests a minute, with bursts up to that many.
 * Returns 0 when the request may pass, else the seconds to wait. A limit of 0 disables it; a key
 * may carry its own limit (a DSN key's `rateLimitPerMinute`), else `perMinute` applies.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string, limit: number = perMinute): number => {
    if (limit <= 0) return 0;
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: limit, at: t };
    bucket.tokens = Math.min(limit, bucket.tokens + ((t - bucket.at) / 60_000) * limit);
    bucket.at = t;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / limit));
  };
}
