// Tests wait for a condition, never for a fixed time: a slow machine only makes them slower.

/** Polls `check` until it returns true; conditions, not sleeps, decide when a test goes on. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
