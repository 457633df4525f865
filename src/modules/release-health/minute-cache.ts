/**
 * Per-project values recomputed at most once a minute and shared by every request of the process.
 * Used for the project side of adoption (a project's sessions and distinct users in the last
 * 24 h): exact, but a scan of every release's rows, and the same for every release of a page.
 * A project's entries are dropped when any Vigil process on the database commits new sessions for
 * it (src/cache/data-changes.ts), so no process shows a stale denominator.
 */
export class MinuteCache<Value> {
  private readonly projects = new Map<number, Map<string, { minute: number; value: Value }>>();
  // Counts invalidations; a value computed from reads begun before one of its project's
  // invalidations is not kept (its reads may predate the commit).
  private generation = 0;
  private readonly invalidatedAt = new Map<number, number>();
  private clearedAt = 0;

  /** Take this before reading, and give it to `set`. */
  get version(): number {
    return this.generation;
  }

  get(projectId: number, key: string, now: Date): Value | undefined {
    const entry = this.projects.get(projectId)?.get(key);
    return entry && entry.minute === minuteOf(now) ? entry.value : undefined;
  }

  set(projectId: number, key: string, now: Date, value: Value, readSince: number): void {
    if (this.clearedAt > readSince || (this.invalidatedAt.get(projectId) ?? 0) > readSince) return;
    let entries = this.projects.get(projectId);
    if (!entries) {
      entries = new Map();
      this.projects.set(projectId, entries);
    }
    entries.set(key, { minute: minuteOf(now), value });
  }

  invalidate(projectId: number): void {
    this.generation += 1;
    this.invalidatedAt.set(projectId, this.generation);
    this.projects.delete(projectId);
  }

  clear(): void {
    this.generation += 1;
    this.clearedAt = this.generation;
    this.invalidatedAt.clear();
    this.projects.clear();
  }
}

const minuteOf = (date: Date) => Math.floor(date.getTime() / 60_000);
