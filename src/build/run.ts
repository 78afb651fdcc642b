// One build's state, in one object passed down: what it was asked (the closure, -j, -k, -f), what
// it reads and writes (the disk and its stat cache, the store, the digest cache, the checks
// already asked), where it reports, and what it has found so far. Nothing of a build lives in a
// module: --json's plan and the build after it are two runs that share only the store they read.
import fs from 'node:fs';
import { withStatCache, type Disk, type Stat } from '../base/disk.ts';
import { TaskFailure } from '../base/errors.ts';
import { CheckBook } from '../decide/early-check.ts';
import type { Graph, Node } from '../graph/graph.ts';
import type { BuildSummary, Reporter } from '../report/events.ts';
import type { FileStamps } from '../state/file-stamps.ts';
import { statePaths, type StateStore } from '../state/state.ts';
import { TimingsCollector } from './timings.ts';

export interface RunSetup {
  graph: Graph;
  /** The closure of the targets, dependencies first. */
  order: readonly string[];
  disk: Disk;
  store: StateStore;
  stamps: FileStamps;
  stateDir: string;
  reporter: Reporter;
  jobs: number;
  keepGoing: boolean;
  /** Targets to rerun even if up to date (-f). */
  forced: ReadonlySet<string>;
  signal: AbortSignal;
  /** The stat cache to fill: after a build in which nothing ran, it holds every stat the decisions compared. */
  stats?: Map<string, Stat | undefined>;
  /** Checks asked before the build (by the no-op snapshot), handed to it with their answers. */
  checks?: CheckBook;
  /** Note when each task was found up to date, too (for --trace). */
  timeUpToDate?: boolean;
}

/** Where a task of the run stands once settled. */
export type Status = 'up-to-date' | 'ran' | 'would-run' | 'failed' | 'skipped' | 'not-started' | 'interrupted';

export class Run {
  readonly graph: Graph;
  readonly order: readonly string[];
  readonly stats: Map<string, Stat | undefined>;
  /** The disk through the run's stat cache, which forgets everything when a task has run. */
  readonly disk: Disk & { forget(): void };
  readonly store: StateStore;
  readonly stamps: FileStamps;
  readonly stateDir: string;
  /** The state folder's logs folder (`statePaths`' `logs`), where each task's log goes. */
  readonly logsDir: string;
  readonly reporter: Reporter;
  readonly jobs: number;
  readonly keepGoing: boolean;
  readonly forced: ReadonlySet<string>;
  readonly signal: AbortSignal;
  readonly checks: CheckBook;
  /** On the disk's clock, as every time the run measures (tests drive a fake one). */
  readonly started: number;
  readonly timings: TimingsCollector;
  readonly status = new Map<string, Status>();
  /** What each settled task hands its dependents: its output digests, or its run's identity. */
  readonly results = new Map<string, string>();
  /** Tasks that ran in this run, or (a dry run) would run. */
  readonly ranNow = new Map<string, 'ran' | 'would-run'>();
  readonly summary: BuildSummary = { ran: [], upToDate: [], groups: [], wouldRun: [], failed: [], skipped: [], notStarted: [], interrupted: [], wallMs: 0 };
  /** A task failed without -k: nothing more starts. */
  stopping = false;

  constructor(setup: RunSetup) {
    this.graph = setup.graph;
    this.order = setup.order;
    this.stats = setup.stats ?? new Map();
    this.disk = withStatCache(setup.disk, this.stats);
    this.store = setup.store;
    this.stamps = setup.stamps;
    this.stateDir = setup.stateDir;
    this.logsDir = statePaths(setup.stateDir).logs;
    this.reporter = setup.reporter;
    this.jobs = setup.jobs;
    this.keepGoing = setup.keepGoing;
    this.forced = setup.forced;
    this.signal = setup.signal;
    this.checks = setup.checks ?? new CheckBook();
    this.started = this.disk.now();
    this.timings = new TimingsCollector(this.started, { upToDate: setup.timeUpToDate });
  }

  #earlierLogs: ReadonlySet<string> | undefined;

  /**
   * Whether an earlier run may have left this log file (`NAME.log`) in the logs folder: one
   * readdir a run, where each task that printed nothing would ask with a stat of its own.
   */
  mayHaveLog(fileName: string): boolean {
    this.#earlierLogs ??= logNames(this.logsDir);
    return this.#earlierLogs === everyName || this.#earlierLogs.has(fileName);
  }

  node(name: string): Node {
    return this.graph.nodes.get(name)!;
  }

  /** The results of a task's dependencies, as its fingerprint holds them. */
  depResults(node: Node): Map<string, string> {
    return new Map(node.deps.map((dep) => [dep, this.results.get(dep) ?? '']));
  }

  settle(name: string, status: Status): void {
    this.status.set(name, status);
    const { summary } = this;
    if (status === 'up-to-date') {
      summary.upToDate.push(name);
      if (this.timings.timings.upToDate) this.timings.upToDate(name, this.disk.now());
    }
    else if (status === 'ran') summary.ran.push(name);
    else if (status === 'would-run') summary.wouldRun.push(name);
    else if (status === 'not-started') summary.notStarted.push(name);
    else if (status === 'interrupted') summary.interrupted.push(name);
  }

  fail(name: string, thrown: unknown, durationMs: number): void {
    // A run may throw anything (`throw undefined`); failures are reported as Errors.
    const error = thrown instanceof Error ? thrown : new TaskFailure(`task '${name}' threw ${describeThrown(thrown)}`);
    this.status.set(name, 'failed');
    this.summary.failed.push({ task: name, error });
    this.reporter.emit({ type: 'failed', task: name, error, durationMs });
    if (!this.keepGoing) this.stopping = true;
  }
}

/** Stands for "any name": a logs folder that could not be listed. */
const everyName: ReadonlySet<string> = new Set();

/** The files in the logs folder; none when it is missing. */
function logNames(folder: string): ReadonlySet<string> {
  try {
    return new Set(fs.readdirSync(folder));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new Set() : everyName;
  }
}

/** A thrown non-Error as text; JSON for plain data, and never a second throw (BigInt, cycles). */
function describeThrown(thrown: unknown): string {
  try {
    return JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}
