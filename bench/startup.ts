import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.ts';

// `npm run bench -- --only startup [--rounds 5]`: Vigil on the embedded default (PGlite, no
// DATABASE_URL), spawn to banner, first start on a new data directory beside a restart on it.
// `npm start` itself (what the README says, npm's own start-up included), the command it runs
// without npm, and the old way through tsx for comparison. Phases come from main.ts's
// `start-up phases` debug line.

type Phases = Record<string, { wallMs: number; cpuMs: number }>;
interface Start {
  wallMs: number;
  phases: Phases;
}

const COMMANDS: Array<{ label: string; argv: string[] }> = [
  { label: 'npm start', argv: ['npm', 'start', '--silent'] },
  {
    label: 'node scripts/start.mjs (what npm start runs)',
    argv: [process.execPath, 'scripts/start.mjs'],
  },
  { label: 'tsx src/main.ts (before)', argv: ['node_modules/.bin/tsx', 'src/main.ts'] },
];
const PHASES = ['modules', 'database', 'migrations', 'bootstrap', 'listening'];

/** One start on `dataDir`, timed from spawn to the banner's last line, then SIGTERM. */
async function start(argv: string[], dataDir: string): Promise<Start> {
  const [command, ...args] = argv as [string, ...string[]];
  const began = performance.now();
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      VIGIL_DATA_DIR: dataDir,
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (/DSN of project default\/default: \S+\n/.test(text)) resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`Vigil exited (${code}):\n${text}`)));
  });
  const wallMs = performance.now() - began;
  // Stopped and exited before the next start opens the same data directory.
  child.kill('SIGTERM');
  await exited;
  const line = out.split('\n').find((l) => l.includes('"start-up phases"'));
  const phases = line ? (JSON.parse(line) as { startup: Phases }).startup : {};
  return { wallMs, phases };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** Per phase: median wall and CPU seconds spent in it (not cumulative). */
function phaseRow(starts: Start[], phase: string): string {
  const spent = (s: Start, key: 'wallMs' | 'cpuMs') => {
    const i = PHASES.indexOf(phase);
    const end = s.phases[phase]?.[key] ?? Number.NaN;
    const begin = i === 0 ? 0 : (s.phases[PHASES[i - 1] as string]?.[key] ?? Number.NaN);
    return end - begin;
  };
  const wall = median(starts.map((s) => spent(s, 'wallMs')));
  const cpu = median(starts.map((s) => spent(s, 'cpuMs')));
  return Number.isNaN(wall) ? '–' : `${seconds(wall)} / ${seconds(cpu)}`;
}

export async function runStartupBench(options: { rounds: number }): Promise<void> {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(`\nStart-up on embedded PGlite, ${options.rounds} rounds; load average ${load}`);
  for (const { label, argv } of COMMANDS) {
    const first: Start[] = [];
    const restart: Start[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-startup-'));
      try {
        first.push(await start(argv, dataDir));
        restart.push(await start(argv, dataDir));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    const range = (starts: Start[]) =>
      `${seconds(median(starts.map((s) => s.wallMs)))} s (${seconds(Math.min(...starts.map((s) => s.wallMs)))}–${seconds(Math.max(...starts.map((s) => s.wallMs)))})`;
    console.log(`\n${label}`);
    console.log(
      `  spawn to banner, median (min–max): first start ${range(first)} | restart ${range(restart)}`,
    );
    if (first[0]?.phases.listening) {
      console.log('  phase (wall / CPU s, median)   first start     restart');
      for (const phase of PHASES) {
        console.log(
          `  ${phase.padEnd(30)} ${phaseRow(first, phase).padEnd(15)} ${phaseRow(restart, phase)}`,
        );
      }
    }
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}
