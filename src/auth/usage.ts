// "Last used" times without a write per request: uses are kept in memory, newest per credential,
// and written in one statement per flush (at most once a minute per credential by default).

export interface UsageRecorder {
  /** Notes that credential `id` was used at `at`; costs no I/O. */
  touch(id: number, at: Date): void;
  /** Writes what was noted since the last flush. */
  flush(): Promise<void>;
  stop(): void;
}

/**
 * @param write stores the newest use per id, e.g. one UPDATE … FROM unnest(…).
 * @param intervalMs @default 60_000
 */
export function createUsageRecorder(
  write: (ids: number[], times: Date[]) => Promise<unknown>,
  {
    intervalMs = 60_000,
    onError,
  }: { intervalMs?: number; onError?: (error: unknown) => void } = {},
): UsageRecorder {
  let pending = new Map<number, Date>();
  const flush = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await write([...batch.keys()], [...batch.values()]);
    } catch (error) {
      // Keep the newest times for the next flush rather than losing them.
      for (const [id, at] of batch) if (!pending.has(id)) pending.set(id, at);
      onError?.(error);
    }
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    touch(id, at) {
      const seen = pending.get(id);
      if (!seen || seen < at) pending.set(id, at);
    },
    flush,
    stop: () => clearInterval(timer),
  };
}
