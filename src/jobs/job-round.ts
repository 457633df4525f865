import type { Database } from '../db/client.ts';

// Periodic jobs run once per round across every Vigil process on the database. A round is a
// period-long slice of the clock (round = floor(ms since epoch / period)); the first process to
// move a job's row to a round owns that round, and the others skip it. A claim records the round,
// which an advisory lock cannot (a lock only keeps two runs apart in time, so two processes could
// each run the same round one after the other). A process that dies mid-run loses that round; the
// jobs here are idempotent and the next round does the work.

/** True when this call moved `job` to `round`: the caller runs it, nobody else does. */
export async function claimJobRound(
  db: Database,
  job: string,
  round: number,
  now: Date,
): Promise<boolean> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ round: bigint }>>(
    `/* claimJobRound */
     INSERT INTO job_round AS j (job, round, claimed_at) VALUES ($1, $2, $3)
     ON CONFLICT (job) DO UPDATE SET round = EXCLUDED.round, claimed_at = EXCLUDED.claimed_at
       WHERE j.round < EXCLUDED.round
     RETURNING round`,
    job,
    BigInt(round),
    now,
  );
  return rows.length === 1;
}

export interface RoundJobOptions {
  /** Length of a round. */
  everyMs: number;
  /** @default () => new Date() */
  clock?: () => Date;
  onError: (error: unknown) => void;
}

/**
 * Runs `run` once per round of `everyMs`, in whichever process claims the round first. Every
 * process looks four times a round, so a round is not missed when one process's timer fires late.
 */
export function startRoundJob(
  db: Database,
  job: string,
  run: (now: Date) => Promise<unknown>,
  { everyMs, clock = () => new Date(), onError }: RoundJobOptions,
) {
  let lastRound = -1;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(async () => {
      const now = clock();
      const round = Math.floor(now.getTime() / everyMs);
      if (round <= lastRound) return;
      try {
        if (!(await claimJobRound(db, job, round, now))) {
          lastRound = round;
          return;
        }
        lastRound = round;
        await run(now);
      } catch (error) {
        onError(error);
      }
    });
  };
  const timer = setInterval(tick, Math.max(250, Math.floor(everyMs / 4)));
  timer.unref();
  return {
    /** Looks now, as a timer tick does (tests). */
    tick: () => {
      tick();
      return running;
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
