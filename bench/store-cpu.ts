import { bootstrap } from '../src/bootstrap.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDimensionCache } from '../src/ingest/dimensions.ts';
import { batchFromEnvelope } from '../src/ingest/envelope.ingest.ts';
import { EnvelopeParser } from '../src/ingest/envelope.parse.ts';
import { type ResolvedBatch, storeEnvelopes } from '../src/ingest/session.store.ts';
import { countCpu } from './cpu.ts';
import { nextEnvelope } from './ingest.ts';
import { ADMIN_TOKEN, freshPostgres } from './server.ts';
import { quantile } from './stats.ts';

// `npx tsx bench/store-cpu.ts [rounds] [sessions per round]`: the CPU that storing costs per
// session, in Vigil's process and in PostgreSQL's backends, without HTTP or a load generator.
// The ingest bench's envelope mix goes through the production parser into transactions of 15
// envelopes (about what group commit forms under its load), written one after another. CPU
// time, unlike throughput, stays comparable on a busy machine: run it in two checkouts, alternated,
// to compare a change of the store (docs/design.md § Ingest at a quarter of the raw rate).

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 20_000);
const ENVELOPES_PER_TRANSACTION = 15;
const DATABASE = 'vigil_bench_store_cpu';

const db = await openDatabase({ databaseUrl: await freshPostgres(DATABASE), dataDir: '' });
await migrate(db);
const project = (await bootstrap(db, ADMIN_TOKEN)).defaultProject;
if (!project) throw new Error('no default project');
const [{ organization_id: organizationId } = { organization_id: 0 }] = await db.prisma.$queryRaw<
  Array<{ organization_id: number }>
>`
    SELECT organization_id FROM project WHERE id = ${project.id}`;

function batch(): { batch: ResolvedBatch; sessions: number } {
  const e = nextEnvelope();
  const parser = new EnvelopeParser({
    keep: (type) => type === 'session' || type === 'sessions',
    maxBytes: 1 << 24,
    maxLineBytes: 1 << 16,
    maxItemBytes: 1 << 20,
    maxItems: 1000,
    retain: () => {},
  });
  parser.feed(Buffer.from(e.body));
  const parsed = batchFromEnvelope(parser.end(), project?.id ?? 0, new Date());
  return { batch: { ...parsed, organizationId }, sessions: e.updates + e.aggregated };
}

const dimensions = createDimensionCache();
const vigil: number[] = [];
const postgres: number[] = [];
for (let round = 0; round < rounds; round++) {
  const transactions: ResolvedBatch[][] = [];
  let sessions = 0;
  while (sessions < perRound) {
    const made = Array.from({ length: ENVELOPES_PER_TRANSACTION }, batch);
    sessions += made.reduce((n, m) => n + m.sessions, 0);
    transactions.push(made.map((m) => m.batch));
  }
  const stop = countCpu(process.pid, DATABASE);
  for (const t of transactions) await storeEnvelopes(db, dimensions, t);
  const cpu = stop();
  if (!cpu) throw new Error('CPU accounting needs Linux');
  // The process's own CPU is `loadGenerator` here: Vigil's store runs in this process.
  vigil.push((cpu.loadGenerator * 1e6) / sessions);
  postgres.push((cpu.database * 1e6) / sessions);
}
const line = (name: string, us: number[]) =>
  `  ${name}: median ${quantile(us, 0.5).toFixed(1)} µs/session, min ${Math.min(...us).toFixed(1)} (${us.map((u) => u.toFixed(1)).join(', ')})`;
process.stdout.write(
  `store CPU, ${rounds} rounds of ${perRound.toLocaleString('en-US')} sessions (the ingest mix, ${ENVELOPES_PER_TRANSACTION} envelopes a transaction):\n${line('Vigil', vigil)}\n${line('PostgreSQL', postgres)}\n`,
);
await db.close();
