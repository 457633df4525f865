/**
 * Per-project values recomputed at most once a minute and shared by every request of the process.
 * Used for the project side of adoption (a project's sessions and distinct users in the last
 * 24 h): exact, but a scan of every release's rows, and the same for every release of a page.
 * Ingest drops a project's entries when it commits new sessions for it, so this process never
 * shows a stale denominator; another process sharing the database may, for up to a minute.
 */
export class MinuteCache<Value> {
  private readonly projects = new Map<number, Map<string, { minute: number; value: Value }>>();

  get(projectId: number, key: string, now: Date): Value | undefined {
    const entry = this.projects.get(projectId)?.get(key);
    return entry && entry.minute === minuteOf(now) ? entry.value : undefined;
  }

  set(projectId: number, key: string, now: Date, value: Value): void {
    let entries = this.projects.get(projectId);
    if (!entries) {
      entries = new Map();
      this.projects.set(projectId, entries);
    }
    entries.set(key, { minute: minuteOf(now), value });
  }

  invalidate(projectId: number): void {
    this.projects.delete(projectId);
  }
}

const minuteOf = (date: Date) => Math.floor(date.getTime() / 60_000);
