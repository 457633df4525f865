// An HTTP app instrumented by @sentry/node in server (request) mode, run by test/support/sentry.ts
// in a child process: the Http integration instruments every HTTP server in its thread, so it must
// not share one with Vigil's test server.
// Input (argv[2], JSON): { dsn, release, environment, ok, handled, crash, record }.
// Output (last stdout line, JSON): { requests, envelopes } (envelopes: base64, only with record).
import http from 'node:http';
import * as Sentry from '@sentry/node';

const plan = JSON.parse(process.argv[2]);
const recorded = [];

Sentry.init({
  dsn: plan.dsn,
  release: plan.release,
  environment: plan.environment,
  sendClientReports: false,
  defaultIntegrations: false,
  // Aggregates leave on flush: the timer never fires within the run.
  integrations: [Sentry.httpIntegration({ sessions: true, sessionFlushingDelayMS: 60_000 })],
  ...(plan.record && {
    transport: (options) =>
      Sentry.createTransport(options, async ({ body }) => {
        recorded.push(Buffer.from(body).toString('base64'));
        return { statusCode: 200, headers: {} };
      }),
  }),
});

const app = http.createServer((request, response) => {
  if (request.url === '/handled') Sentry.captureException(new Error('handled in a request'));
  if (request.url === '/crash') {
    // What the OnUncaughtException integration reports: an unhandled mechanism.
    Sentry.captureException(new Error('unhandled in a request'), {
      mechanism: { type: 'test', handled: false },
    });
  }
  response.end('ok');
});
await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${app.address().port}`;

const paths = [
  ...Array(plan.ok).fill('/ok'),
  ...Array(plan.handled).fill('/handled'),
  ...Array(plan.crash).fill('/crash'),
];
for (const path of paths) {
  // fetch (undici) is a client: it does not count as an incoming request.
  const response = await fetch(base + path);
  await response.text();
}
// Request sessions are recorded when the response closes.
await new Promise((resolve) => setTimeout(resolve, 50));
await Sentry.flush(5000);
await new Promise((resolve) => app.close(resolve));
await Sentry.close(5000);
process.stdout.write(`${JSON.stringify({ requests: paths.length, envelopes: recorded })}\n`);
