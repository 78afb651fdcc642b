// The task executor: runs a task found out of date (its declared commands, then its `run`),
// then records what it produced; a failed, timed-out or interrupted run records nothing.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Disk } from '../base/disk.ts';
import { TaskFailure } from '../base/errors.ts';
import { formatDuration } from '../base/format.ts';
import type { FileStamps } from '../state/file-stamps.ts';
import { sha256 } from '../base/digest.ts';
import { canonicalJson, discoveredAfterRun } from '../decide/fingerprint.ts';
import { takeDepfile } from '../launch/depfile.ts';
import { unexplainedLineChange } from '../decide/command-lines.ts';
import type { Reporter } from '../report/events.ts';
import type { Node } from '../graph/graph.ts';
import type { OutputRecord } from '../state/state.ts';
import type { Executor, Stale } from './executor.ts';
import type { Run } from './run.ts';
import { makeContext } from '../launch/task-context.ts';
import { TaskLog } from '../launch/task-log.ts';
import { UsageTally } from '../launch/usage.ts';
import { timeoutSignal, untilAborted } from '../launch/timeout-signal.ts';
import type { TaskContext } from '../taskfile/types.ts';
import type { TaskCache } from '../cache/task-cache.ts';
import { notCacheable } from '../cache/action-key.ts';
import { assessWithoutCheck } from '../decide/freshness.ts';
import { assessOptions, isGroup } from './decide-task.ts';

/** Runs a task's work. The real one calls `run`; tests pass a fake one. */
export type TaskRunner = (node: Node, ctx: TaskContext) => Promise<void>;

export const runTaskFunction: TaskRunner = async (node, ctx) => {
  makeOutputFolders(node.outputs);
  for (const [file, ...args] of node.commands) await ctx.exec(file!, args);
  await node.spec.run?.(ctx);
};

/**
 * Creates the folder each declared output goes into (`build/` for `build/main.o`, `out/` for a
 * folder output `out/rootfs`), as a task's run expects; never the output itself, which a run may
 * rename into place. A folder that cannot be made is left to the run, which then fails its own way.
 */
export function makeOutputFolders(outputs: readonly string[]): void {
  for (const output of outputs) {
    try {
      // A stat, where a recursive mkdir of a folder already there is a mkdir and a stat.
      const folder = path.dirname(output);
      if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) fs.mkdirSync(folder, { recursive: true });
    } catch {
      // Not ours to report: the run may make it another way (a command run with the rights to).
    }
  }
}

/**
 * Runs a stale task and records it: the executor of a real build. With a cache, a stale task
 * whose action key it holds is restored instead of run, and a task that ran is stored.
 */
export class TaskExecutor implements Executor {
  readonly #runner: TaskRunner;
  readonly #cache: TaskCache | undefined;

  constructor(options: { runner?: TaskRunner; cache?: TaskCache } = {}) {
    this.#runner = options.runner ?? runTaskFunction;
    this.#cache = options.cache;
  }

  async finish(run: Run): Promise<void> {
    if (!this.#cache) return;
    const waiting = (pending: number, shown: string) => run.reporter.emit({ type: 'notice', message: `waiting for ${pending} upload${pending === 1 ? '' : 's'} to the remote cache ${shown}` });
    run.summary.cache = await this.#cache.finish(waiting);
  }

  /**
   * A task's dependencies are settled and it waits for a slot. With a remote cache, when it is
   * out of date and cacheable (so it has no check to ask), its lookup starts now: the round trips
   * overlap the tasks running, instead of each taking its turn in a slot.
   */
  ready(run: Run, node: Node): void {
    const cache = this.#cache;
    if (!cache?.looksAhead || run.stopping || run.signal.aborted || isGroup(node) || run.forced.has(node.name) || notCacheable(node) !== undefined) return;
    if (!node.deps.every((dep) => run.status.get(dep) === 'ran' || run.status.get(dep) === 'up-to-date')) return;
    try {
      const assessment = assessWithoutCheck(assessOptions(run, node));
      if (assessment.reasons.length > 0 || !run.store.get(node.name)) cache.lookAhead(node, assessment.parts, run.signal);
    } catch {
      // An input missing or unreadable: the task's own decision says so, in its turn.
    }
  }

  refresh(run: Run, name: string, outputs: Map<string, OutputRecord>): void {
    run.store.put(name, { ...run.store.get(name)!, outputs });
  }

  async execute(run: Run, node: Node, stale: Stale, release?: () => boolean): Promise<void> {
    const { name } = node;
    const { store, reporter, signal, disk, graph } = run;
    if (stale.parts === undefined) throw new TaskFailure(`task '${name}': an input is not built yet`);
    const begun = Date.now();
    // Removed before the run, written only after success: a failed or killed run is never "up to date".
    // If the removal cannot be written (a full disk), the task does not start.
    const previous = store.get(name);
    store.delete(name);
    // -f means run it: a result in the cache is not taken instead.
    const hit = run.forced.has(name) ? undefined : await this.#cache?.lookup(node, stale.parts, signal);
    reporter.emit({ type: 'start', task: name, reasons: stale.reasons, ...(node.spec.pool === 'console' ? { terminal: true } : {}), ...(hit ? { cache: hit.from } : {}) });
    const log = new TaskLog(
      path.join(run.logsDir, `${name}.log`),
      (line, command) => reporter.emit({ type: 'output', task: name, line, ...(command ? { command: true } : {}) }),
      (text) => reporter.emit({ type: 'progress', task: name, text }),
      run.mayHaveLog(`${name}.log`),
    );
    const timeout = timeoutSignal(signal, node.spec.timeout);
    const taskSignal = timeout.signal;
    const usage = new UsageTally();
    try {
      const found: string[] = [];
      const lines: string[] = [];
      const discovered = (paths: readonly string[]) => void found.push(...paths);
      const onExec = (line: string) => void lines.push(line);
      const context = makeContext({ name, root: graph.root, stateDir: run.stateDir, values: node.spec.values ?? {}, signal: taskSignal, log, terminal: node.spec.pool === 'console', discovered, onExec, usage, makesStateDir: true });
      // A hit whose blobs prove missing or corrupt runs the task after all.
      const restored = hit !== undefined && (await hit.restore(taskSignal));
      if (!restored) await untilAborted(this.#runner(node, context), taskSignal);
      disk.forget();
      if (node.depfile !== undefined && !restored) found.push(...readDepfile(node, graph.root, reporter));
      const foundNow = discoveredAfterRun(found, stale.parts, graph.root, disk, run.stamps);
      const { discovered: _before, ...parts } = stale.parts;
      const outputs = recordOutputs(node, graph.root, disk, run.stamps);
      // Early cutoff: dependents see the output digests, so byte-identical outputs stop the rebuild here.
      const result = outputsResult(outputs) ?? `run:${randomUUID()}`;
      const durationMs = Date.now() - begun;
      // Its commands are done and its outputs known: the next task's command starts before this
      // one is recorded and reported (its dependents still wait for the record). The recording
      // waits for that start (decisions, the request to the spawn helper), all in promise jobs.
      if (release?.()) await new Promise<void>((resume) => setImmediate(resume));
      const change = restored ? undefined : unexplainedLineChange(previous, stale.parts, lines, node.spec.check !== undefined);
      if (change) {
        reporter.emit({
          type: 'warning',
          message: `task '${name}': its run started \`${change.now}\` where its last run started \`${change.old}\`, though nothing it declares changed: data it reads from outside (a variable, a param) changed, and that alone reruns nothing; declare it in values, or write the command as command`,
        });
      }
      // Only for a run: a task of declared commands alone has its lines in its fingerprint already.
      const ranCommands = node.spec.run && lines.length > 0 ? { ranCommands: lines } : {};
      store.put(name, { parts: foundNow ? { ...parts, discovered: foundNow } : parts, outputs, result, finishedAt: Date.now(), durationMs, ...ranCommands });
      // A run that discovered inputs is not stored: its key, made before the run, cannot name them.
      if (!restored && foundNow === undefined) await this.#cache?.save(node, outputs, durationMs, taskSignal, signal);
      run.results.set(name, result);
      run.ranNow.set(name, 'ran');
      if (restored) {
        run.status.set(name, 'ran');
        (run.summary.restored ??= []).push(name);
      } else run.settle(name, 'ran');
      reporter.emit({ type: 'done', task: name, durationMs, ...(restored ? { cache: hit!.from } : usage.totals) });
    } catch (error) {
      log.keep();
      disk.forget();
      if (signal.aborted) {
        run.settle(name, 'interrupted');
        reporter.emit({ type: 'interrupted', task: name });
      } else if (taskSignal.aborted) {
        // Which limit, and after how long: the task's own, not a command's (that one is a CommandFailed).
        const elapsed = Date.now() - begun;
        run.fail(name, new TaskFailure(`timed out after ${formatDuration(elapsed)}: the task's own limit (timeout: ${node.spec.timeout} ms)`), elapsed);
      } else {
        run.fail(name, error, Date.now() - begun);
      }
    } finally {
      timeout.dispose();
      log.close();
      if (log.writeError) reporter.emit({ type: 'warning', message: `could not write the log ${log.path}: ${log.writeError.message}` });
    }
  }
}

/**
 * The files a task's depfile names, read and removed. A depfile the run did not write is a warning
 * and names nothing (ninja reads a missing one as empty): the task ran, but no header is tracked.
 */
function readDepfile(node: Node, root: string, reporter: Reporter): string[] {
  const shown = path.relative(root, node.depfile!) || node.depfile!;
  let found: string[] | undefined;
  try {
    found = takeDepfile(node.depfile!);
  } catch (error) {
    throw new TaskFailure(`task '${node.name}': cannot read its depfile ${shown}: ${(error as Error).message}`);
  }
  if (found === undefined) reporter.emit({ type: 'warning', message: `task '${node.name}': its command wrote no depfile ${shown}; no discovered input is recorded` });
  return found ?? [];
}

/**
 * What a task that ran hands its dependents: the digest of its file outputs' digests (early
 * cutoff); undefined when it has none.
 */
export function outputsResult(outputs: ReadonlyMap<string, OutputRecord>): string | undefined {
  const files = [...outputs].flatMap(([file, out]) => (out.kind === 'file' ? [[file, out.digest]] : []));
  return files.length > 0 ? sha256(canonicalJson(Object.fromEntries(files))) : undefined;
}

/** Stats and hashes every declared output after a run; a missing one fails the task, naming it. */
function recordOutputs(node: Node, root: string, disk: Disk, stamps: FileStamps): Map<string, OutputRecord> {
  const outputs = new Map<string, OutputRecord>();
  for (const out of node.outputs) {
    const stat = disk.stat(out);
    if (!stat) throw new TaskFailure(`task '${node.name}' did not create its declared output ${path.relative(root, out) || out}`);
    outputs.set(out, stat.kind === 'dir' ? { kind: 'dir' } : { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs, digest: stamps.digest(out, stat) });
  }
  return outputs;
}

