import { readdirSync, readFileSync } from 'node:fs';

// Where the machine's cores went during a run: Vigil's process tree, the PostgreSQL backends
// serving the bench database, and the load generator itself. Read from /proc (Linux); on other
// systems the figures are left out.

const TICKS_PER_SECOND = 100;

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
  seconds: number;
}

function processes(): Proc[] {
  const all: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state ppid … utime(12th) stime(13th).
      const fields = (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
      all.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '),
        seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      });
    } catch {
      // The process ended while being read.
    }
  }
  return all;
}

/** CPU seconds per process of Vigil's tree and of the database's backends, by pid. */
function sample(vigilPid: number, database: string | undefined) {
  const all = processes();
  const tree = new Set([vigilPid]);
  // Parents come before children often but not always: repeat until the tree stops growing.
  for (let grown = true; grown; ) {
    grown = false;
    for (const p of all) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grown = true;
      }
    }
  }
  const vigil = new Map<number, number>();
  const db = new Map<number, number>();
  for (const p of all) {
    if (tree.has(p.pid)) vigil.set(p.pid, p.seconds);
    else if (database && p.cmdline.startsWith('postgres: ') && p.cmdline.includes(` ${database} `))
      db.set(p.pid, p.seconds);
  }
  return { vigil, db };
}

function grown(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += Math.max(0, seconds - (before.get(pid) ?? 0));
  return sum;
}

export interface CpuFigures {
  /** CPU seconds over the run. */
  vigil: number;
  database: number;
  loadGenerator: number;
}

/** Starts counting; the returned function stops and gives the CPU seconds spent meanwhile. */
export function countCpu(vigilPid: number | undefined, database: string | undefined) {
  if (process.platform !== 'linux' || vigilPid === undefined) return () => undefined;
  const before = sample(vigilPid, database);
  const load = process.cpuUsage();
  return (): CpuFigures => {
    const after = sample(vigilPid, database);
    const self = process.cpuUsage(load);
    return {
      vigil: grown(before.vigil, after.vigil),
      database: grown(before.db, after.db),
      loadGenerator: (self.user + self.system) / 1e6,
    };
  };
}
