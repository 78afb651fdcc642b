// What the engine tells reporters. The engine emits; reporters render (lage's split).
import type { TaskError } from '../base/errors.ts';
import type { Reason } from '../decide/freshness.ts';
import type { TimingEntry } from '../state/timings-log.ts';

export type BuildEvent =
  /** `groups`: those of `tasks` that are groups (no work of their own), not counted as tasks. */
  | { type: 'plan'; tasks: readonly string[]; groups?: readonly string[] }
  /** `terminal`: a task in the console pool (`pool: 'console'`), whose output is for the user (printed as it comes). */
  | { type: 'start'; task: string; reasons: Reason[]; terminal?: boolean; /** Restoring its outputs from this cache instead of running it. */ cache?: CacheSource }
  /** A line of a task's output; `command`: the `$ command` line shown before a command runs, not its output. */
  | { type: 'output'; task: string; line: string; command?: true }
  /**
   * The unfinished last line of a task's output so far (a progress bar redrawn with `\r`, a
   * prompt): for a live display only; it becomes an `output` line once its newline comes.
   */
  | { type: 'progress'; task: string; text: string }
  /** `group`: a task with no work of its own (`all`), settled when its dependencies are; not counted. */
  | { type: 'up-to-date'; task: string; group?: boolean }
  | { type: 'would-run'; task: string; reasons: Reason[]; /** Its declared commands, shell-quoted. */ commands?: string[]; /** --explain: what the cache would do. */ cache?: string }
  /**
   * `cache`: its outputs came from this cache, nothing ran. `cpuMs` (user + system) and
   * `peakRssKb` of its commands, when every command it ran was measured (launch/usage.ts).
   */
  | { type: 'done'; task: string; durationMs: number; cache?: CacheSource; cpuMs?: number; peakRssKb?: number }
  | { type: 'failed'; task: string; error: Error | TaskError; durationMs: number }
  | { type: 'skipped'; task: string; dependency: string }
  | { type: 'interrupted'; task: string }
  | { type: 'warning'; message: string }
  /** Something the build is doing that is not a task's (waiting for uploads): one line on stderr. */
  | { type: 'notice'; message: string };

export interface Reporter {
  emit(event: BuildEvent): void;
  /** Called once at the end with the summary; resolves when everything is printed. */
  finish(summary: BuildSummary): Promise<void>;
}

/** Where a restored task's outputs came from. */
export type CacheSource = 'local' | 'remote';

/** What the cache did in one build. */
export interface CacheStats {
  localHits: number;
  remoteHits: number;
  /** Cacheable tasks that were looked up and had to run. */
  misses: number;
  /** Bytes downloaded from and uploaded to the remote cache. */
  bytesDown: number;
  bytesUp: number;
  /** The recorded build times of the restored tasks, less the time their restore took. */
  savedMs: number;
}

/** A task that ran in a build (or was restored, failed, interrupted), as measured on the build's clock. */
export interface TaskTiming extends TimingEntry {
  /** The -j slot it ran in, from 0: tasks that ran at the same time have different lanes. */
  lane: number;
}

/** What a build measured: for the timings log, `--trace` and the summary of a slow build. */
export interface BuildTimings {
  /** When the build started, ms since the epoch. */
  startMs: number;
  /** The tasks that ran, in the order they ended. */
  tasks: TaskTiming[];
  /** Tasks found up to date, with when (only when asked for: `--trace`). */
  upToDate?: Array<{ task: string; atMs: number }>;
}

/** After a build that took longer than `slowBuildMs` (report/slow-build.ts): where the time went. */
export interface SlowBuild {
  wallMs: number;
  /** The tasks that took longest, longest first (at most 5). */
  slowest: Array<{ task: string; durationMs: number }>;
  /** The chain of dependencies whose measured durations add up to the most, dependencies first (tasks that ran only). */
  criticalPath: Array<{ task: string; durationMs: number }>;
  criticalPathMs: number;
}

/** The outcome of a build, by task. */
export interface BuildSummary {
  ran: string[];
  upToDate: string[];
  /** The groups of the build (tasks with no work of their own): never counted as run, up to date, skipped or not started. */
  groups: string[];
  wouldRun: string[];
  failed: Array<{ task: string; error: Error }>;
  skipped: Array<{ task: string; dependency: string }>;
  /** Not started because the build stopped after a failure or an interrupt. */
  notStarted: string[];
  interrupted: string[];
  /** Tasks whose outputs were restored from the cache instead of running (none without a cache). */
  restored?: string[];
  /** The cache's figures, when the build used one. */
  cache?: CacheStats;
  wallMs: number;
  /** What the build measured (a real build's; a dry run has none). */
  timings?: BuildTimings;
  /** Where the time went, after a build that took longer than a few seconds. */
  slowBuild?: SlowBuild;
  /** The process's exit status, when the CLI knows it before the summary is printed. */
  exitStatus?: number;
}
