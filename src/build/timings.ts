// What a build measures of the tasks it runs: when each started and ended (on the disk's clock,
// which tests drive), in which -j slot, how it ended, and what it ran with. Read at the end by
// the timings log, --trace and the summary of a slow build.
import { fingerprintDigest } from '../decide/fingerprint.ts';
import type { BuildTimings } from '../report/events.ts';
import type { FingerprintParts } from '../state/record.ts';
import type { TimingStatus } from '../state/timings-log.ts';

export class TimingsCollector {
  readonly timings: BuildTimings;
  /** Tasks restored from the cache: the run lists them in its summary, taken in up to `#restoredSeen`. */
  readonly #restored = new Set<string>();
  #restoredSeen = 0;

  /** `upToDate`: also note when each task was found up to date (for --trace). */
  constructor(startMs: number, options: { upToDate?: boolean } = {}) {
    this.timings = { startMs, tasks: [], ...(options.upToDate ? { upToDate: [] } : {}) };
  }

  /** A task found up to date, at `atMs` (kept only when asked for). */
  upToDate(task: string, atMs: number): void {
    this.timings.upToDate?.push({ task, atMs });
  }

  /**
   * A stale task the executor has settled, with how the run settled it (`status`) and the tasks
   * the run restored so far; a dry run's "would run" is no timing.
   */
  executed(task: string, ran: { lane: number; startMs: number; endMs: number; status: string | undefined; restored: readonly string[] | undefined; parts: FingerprintParts | undefined }): void {
    const status = this.#statusOf(task, ran.status, ran.restored ?? []);
    if (status === undefined) return;
    const { lane, startMs, endMs, parts } = ran;
    this.timings.tasks.push({ task, startMs, endMs, lane, status, fingerprint: parts ? fingerprintDigest(parts) : '' });
  }

  /**
   * After an interrupt, once every command has stopped (`atMs`): an interrupted task ends then,
   * not at the interrupt, since its commands ran on through their grace period.
   */
  commandsStopped(atMs: number): void {
    for (const entry of this.timings.tasks) if (entry.status === 'interrupted') entry.endMs = Math.max(entry.endMs, atMs);
  }

  #statusOf(task: string, status: string | undefined, restored: readonly string[]): TimingStatus | undefined {
    if (status === 'failed' || status === 'interrupted') return status;
    if (status !== 'ran') return undefined;
    for (; this.#restoredSeen < restored.length; this.#restoredSeen++) this.#restored.add(restored[this.#restoredSeen]!);
    return this.#restored.has(task) ? 'restored' : 'ran';
  }
}

/**
 * After a real build: appends the tasks that ran to the timings log (`.task/timings.log`) and
 * writes the trace (`--trace FILE`). Returns warnings: a log or trace that cannot be written costs
 * the build nothing else.
 */
export async function saveTimings(timings: BuildTimings, files: { log?: string; trace?: string }): Promise<string[]> {
  const warnings: string[] = [];
  if (files.log !== undefined && timings.tasks.length > 0) {
    const { appendTimings } = await import('../state/timings-log.ts');
    try {
      appendTimings(files.log, timings.tasks.map(({ lane: _lane, ...entry }) => entry));
    } catch (error) {
      warnings.push(`could not write the timings log ${files.log}: ${(error as Error).message}`);
    }
  }
  if (files.trace !== undefined) {
    const { writeTrace } = await import('../report/trace.ts');
    try {
      writeTrace(files.trace, timings);
    } catch (error) {
      warnings.push(`could not write the trace ${files.trace}: ${(error as Error).message}`);
    }
  }
  return warnings;
}
