// @sentry/browser under Node with a minimal DOM shim, run by test/support/sentry.ts in a child
// process so that the shim's globals never reach the test process.
// Input (argv[2], JSON): { dsn, release, environment, mode: 'client', sessions: [{ did, outcome }] }
//                     or { dsn, release, environment, mode: 'global', did, uncaughtErrors }.
// Output (last stdout line, JSON): { envelopes } (how many envelopes the SDK sent).

// ---- the shim: what the SDK and its default integrations touch (must exist before import) ----
const windowEvents = new EventTarget();
globalThis.window = globalThis;
globalThis.addEventListener = windowEvents.addEventListener.bind(windowEvents);
globalThis.removeEventListener = windowEvents.removeEventListener.bind(windowEvents);
globalThis.dispatchEvent = windowEvents.dispatchEvent.bind(windowEvents);
const documentEvents = new EventTarget();
globalThis.document = Object.assign(documentEvents, {
  visibilityState: 'visible',
  readyState: 'complete',
  head: { appendChild() {}, removeChild() {} },
  // No iframe sandbox: the fetch transport falls back to globalThis.fetch.
  createElement: () => ({}),
  addEventListener: documentEvents.addEventListener.bind(documentEvents),
  removeEventListener: documentEvents.removeEventListener.bind(documentEvents),
});
globalThis.location = new URL('http://app.test/page');
Object.defineProperty(globalThis, 'navigator', {
  value: { userAgent: 'Mozilla/5.0 (VigilTest) Chrome/120' },
  configurable: true,
});

const plan = JSON.parse(process.argv[2]);
const Sentry = await import('@sentry/browser');
const { makeSession, closeSession } = await import('@sentry/core');
let envelopes = 0;

if (plan.mode === 'client') {
  const client = new Sentry.BrowserClient({
    dsn: plan.dsn,
    release: plan.release,
    environment: plan.environment,
    integrations: [],
    transport: Sentry.makeFetchTransport,
    stackParser: Sentry.defaultStackParser,
    sendClientReports: false,
  });
  client.on('beforeEnvelope', () => void envelopes++);
  const scope = new Sentry.Scope();
  scope.setClient(client);
  client.init();
  for (const { did, outcome } of plan.sessions) {
    // As browserSessionIntegration makes them: page sessions carry no duration.
    const session = makeSession({
      user: { id: did },
      userAgent: navigator.userAgent,
      ignoreDuration: true,
    });
    scope.setSession(session);
    client.captureSession(session);
    if (outcome === 'handled') scope.captureException(new Error(`handled for ${did}`));
    if (outcome === 'unhandled') {
      // What the GlobalHandlers integration reports for window.onerror.
      scope.captureException(new Error(`uncaught for ${did}`), {
        mechanism: { type: 'auto.browser.global_handlers.onerror', handled: false },
      });
    }
    closeSession(session);
    client.captureSession(session);
    scope.setSession(undefined);
  }
  await client.flush(5000);
  await client.close(5000);
} else {
  Sentry.init({
    dsn: plan.dsn,
    release: plan.release,
    environment: plan.environment,
    sendClientReports: false,
  });
  Sentry.getClient().on('beforeEnvelope', () => void envelopes++);
  Sentry.setUser({ id: plan.did });
  // The page session is sent "when idle" (a setTimeout fallback here).
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < plan.uncaughtErrors; i++) {
    globalThis.onerror?.(
      'Uncaught Error: page boom',
      'http://app.test/app.js',
      10,
      5,
      new Error('boom'),
    );
  }
  await Sentry.flush(5000);
}
process.stdout.write(`${JSON.stringify({ envelopes })}\n`);
