// What happens to a task found out of date is the executor's (ninja's CommandRunner): the task
// executor (execute.ts) runs and records it; the dry-run executor, for -n, --explain and -q,
// runs nothing and records nothing, and only says what would run and why. The decision before
// it is the same for both.
import { shellQuote } from '../base/format.ts';
import type { Reason } from '../decide/freshness.ts';
import type { Node } from '../graph/graph.ts';
import type { FingerprintParts, OutputRecord } from '../state/state.ts';
import type { Run } from './run.ts';
import type { TaskCache } from '../cache/task-cache.ts';
import { notCacheable } from '../cache/action-key.ts';

/** A task found out of date: why, and the fingerprint it would be recorded with. */
export interface Stale {
  reasons: Reason[];
  /** Undefined only in a dry run, for a task whose input a dependency that would run makes. */
  parts: FingerprintParts | undefined;
}

export interface Executor {
  /**
   * Brings a stale task up to date (or says it would) and settles it in the run; never rejects.
   * It may call `release` once its commands have exited and its outputs are known, before it
   * records them: the task's -j slot is then handed on (`release` says whether a task started in
   * it). Its dependents are decided only once `execute` has settled.
   */
  execute(run: Run, node: Node, stale: Stale, release?: () => boolean): Promise<void>;
  /** An up-to-date task's outputs were touched but are byte-identical: keeps their new mtimes, or not. */
  refresh(run: Run, name: string, outputs: Map<string, OutputRecord>): void;
  /** Once every task is settled: adds what the executor alone knows to the run's summary. */
  finish?(run: Run): void | Promise<void>;
  /** A task's dependencies are settled and it waits for a slot: work it can start ahead of its turn. Never throws. */
  ready?(run: Run, node: Node): void;
}

/**
 * Runs nothing and records nothing (ninja's DryRunCommandRunner). With a cache (--explain), says
 * what the cache would do for each task that would run; it only reads the cache.
 */
export class DryRunExecutor implements Executor {
  readonly #cache: TaskCache | undefined;

  constructor(options: { cache?: TaskCache } = {}) {
    this.#cache = options.cache;
  }

  async execute(run: Run, node: Node, stale: Stale): Promise<void> {
    // Dependents see a result no real run has, so they are out of date too, "because X would run".
    run.results.set(node.name, `would-run:${node.name}`);
    run.ranNow.set(node.name, 'would-run');
    run.settle(node.name, 'would-run');
    const cache = this.#cache && stale.parts && (run.forced.has(node.name) && notCacheable(node) === undefined ? 'cache: not asked, -f runs it' : await this.#cache.explain(node, stale.parts, run.ranNow, run.signal));
    run.reporter.emit({ type: 'would-run', task: node.name, reasons: stale.reasons, ...shownCommands(node), ...(cache ? { cache } : {}) });
  }

  refresh(): void {}
}

/** A task's declared commands, shell-quoted, for a dry run's event (nothing when it has none). */
function shownCommands(node: Node): { commands?: string[] } {
  return node.commands.length > 0 ? { commands: node.commands.map(shellQuote) } : {};
}
