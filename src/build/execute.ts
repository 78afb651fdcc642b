// The executor: for each task the scheduler hands it, decide up to date or not, run it,
// and record the result. A dry run is the same walk with nothing run and nothing recorded.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withStatCache, type Disk, type Stat } from '../base/disk.ts';
import { answersAtOnce, askCheck, checkSetting, type CalledCheck } from '../decide/early-check.ts';
import { InputNotBuiltYet, TaskFailure } from '../base/errors.ts';
import type { BuildSummary, Reporter } from '../report/events.ts';
import type { FileStamps } from '../state/file-stamps.ts';
import { canonicalJson, ownParts, sha256 } from '../decide/fingerprint.ts';
import { shellQuote } from '../base/format.ts';
import { assess, assessWithoutCheck, type Assessment } from '../decide/freshness.ts';
import type { Graph, Node } from '../graph/graph.ts';
import { schedule } from './scheduler.ts';
import { statePaths, type OutputRecord, type StateStore } from '../state/state.ts';
import { makeContext } from '../launch/task-context.ts';
import { TaskLog } from '../launch/task-log.ts';
import { timeoutSignal, untilAborted } from '../launch/timeout-signal.ts';
import type { TaskContext } from '../taskfile/types.ts';
import type { TaskCache } from '../cache/task-cache.ts';

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
      fs.mkdirSync(path.dirname(output), { recursive: true });
    } catch {
      // Not ours to report: the run may make it another way (a command run with the rights to).
    }
  }
}

export interface BuildOptions {
  graph: Graph;
  /** The closure of the targets, dependencies first. */
  order: readonly string[];
  disk: Disk;
  /** Checks the no-op snapshot already called, with what they said. */
  calledChecks?: Map<string, CalledCheck>;
  /** The build's stat cache: after a build in which nothing ran, it holds every stat the decisions compared. */
  stats?: Map<string, Stat | undefined>;
  store: StateStore;
  stamps: FileStamps;
  stateDir: string;
  reporter: Reporter;
  runner?: TaskRunner;
  jobs: number;
  keepGoing: boolean;
  /** Targets to rerun even if up to date (-f). */
  forced: ReadonlySet<string>;
  /** Decide and report, but run and record nothing (-n, --explain, -q). */
  dryRun: boolean;
  signal: AbortSignal;
  /** The local and remote cache: a stale task whose key it holds is restored, not run. */
  cache?: TaskCache;
}

type Status = 'up-to-date' | 'ran' | 'would-run' | 'failed' | 'skipped' | 'not-started' | 'interrupted';

export async function build(options: BuildOptions): Promise<BuildSummary> {
  const { graph, store, reporter, signal } = options;
  const disk = withStatCache(options.disk, options.stats);
  const runner = options.runner ?? runTaskFunction;
  const started = Date.now();
  const status = new Map<string, Status>();
  const results = new Map<string, string>();
  const ranNow = new Set<string>();
  const summary: BuildSummary = { ran: [], upToDate: [], wouldRun: [], failed: [], skipped: [], notStarted: [], interrupted: [], wallMs: 0 };
  let stopping = false;
  const logsDir = statePaths(options.stateDir).logs;

  reporter.emit({ type: 'plan', tasks: options.order });

  const settle = (name: string, s: Status) => {
    status.set(name, s);
    if (s === 'up-to-date') summary.upToDate.push(name);
    else if (s === 'ran') summary.ran.push(name);
    else if (s === 'would-run') summary.wouldRun.push(name);
    else if (s === 'not-started') summary.notStarted.push(name);
    else if (s === 'interrupted') summary.interrupted.push(name);
  };

  const fail = (name: string, thrown: unknown, durationMs: number) => {
    // A run may throw anything (`throw undefined`); failures are reported as Errors.
    const error = thrown instanceof Error ? thrown : new TaskFailure(`task '${name}' threw ${JSON.stringify(thrown) ?? String(thrown)}`);
    status.set(name, 'failed');
    summary.failed.push({ task: name, error });
    reporter.emit({ type: 'failed', task: name, error, durationMs });
    if (!options.keepGoing) stopping = true;
  };

  const contextFor = (node: Node, log: TaskLog, taskSignal: AbortSignal) =>
    makeContext({ name: node.name, root: graph.root, stateDir: options.stateDir, values: node.spec.values ?? {}, signal: taskSignal, log, terminal: node.spec.pool === 'console' });

  /** A group does nothing of its own: no run, check, values, inputs or outputs. */
  const isGroup = (node: Node) =>
    !node.spec.run && node.commands.length === 0 && !node.spec.check && !node.spec.always && !node.spec.values && node.outputs.length === 0 && node.inputs.length === 0;

  // A group passes its dependencies' results on, and is never itself work to do (so `-q` and
  // the summary count only real tasks).
  const settleGroup = (node: Node) => {
    results.set(node.name, sha256(canonicalJson(Object.fromEntries(node.deps.map((dep) => [dep, results.get(dep) ?? ''])))));
    settle(node.name, 'up-to-date');
    reporter.emit({ type: 'up-to-date', task: node.name });
  };

  /** Everything the up-to-date rules compare, for a task whose dependencies are settled. */
  const assessOptions = (node: Node) => ({
    node,
    root: graph.root,
    disk,
    parts: { ...ownParts(node, graph, disk, options.stamps), deps: new Map(node.deps.map((dep) => [dep, results.get(dep) ?? ''])) },
    record: store.get(node.name),
    forced: options.forced.has(node.name),
    depsRanNow: ranNow,
    dryRun: options.dryRun,
  });

  const settleUpToDate = (name: string, assessment: Assessment) => {
    const record = store.get(name)!;
    if (assessment.refreshedOutputs && !options.dryRun) store.put(name, { ...record, outputs: assessment.refreshedOutputs });
    results.set(name, record.result);
    settle(name, 'up-to-date');
    reporter.emit({ type: 'up-to-date', task: name });
  };

  /** Checks already called (by the snapshot, or below): decide() hands their outcome on instead of calling them again. */
  const calledChecks = options.calledChecks ?? new Map<string, CalledCheck>();
  const checkPlace = { root: graph.root, stateDir: options.stateDir, signal };

  /**
   * Calls a task's check from the fast path when it answers at once: an `async` check is left to
   * the scheduler, which runs at most -j of them at a time. A plain function that returns a
   * promise anyway is handed on with it, and stops the fast path from calling more checks.
   * Returns true when the check says up to date.
   */
  let callingChecks = true;
  const checkAtOnce = (node: Node): boolean => {
    const check = node.spec.check!;
    let called = calledChecks.get(node.name);
    if (!called) {
      if (!callingChecks || !answersAtOnce(check)) return false;
      called = askCheck(node.name, node.spec, checkPlace);
      calledChecks.set(node.name, called);
    }
    if (called.promised) callingChecks = false;
    if (!called.upToDate) return false;
    called.log.close();
    calledChecks.delete(node.name);
    return true;
  };

  /**
   * The no-op fast path: in dependency order, settles every task that is up to date, when its
   * dependencies are all up to date too, without the scheduler and its promises. Returns the
   * tasks left to schedule: those that may have to run, and their dependents.
   */
  const settleWhatIsUpToDate = (): string[] => {
    const left: string[] = [];
    for (const name of options.order) {
      const node = graph.nodes.get(name)!;
      if (!node.deps.every((dep) => status.get(dep) === 'up-to-date')) {
        left.push(name);
        continue;
      }
      if (isGroup(node)) {
        settleGroup(node);
        continue;
      }
      let assessment: Assessment;
      try {
        assessment = assessWithoutCheck(assessOptions(node));
      } catch {
        // A missing input: the scheduled decision reports it, as a failure of this task.
        left.push(name);
        continue;
      }
      if (assessment.reasons.length === 0 && store.get(name) && (!node.spec.check || checkAtOnce(node))) settleUpToDate(name, assessment);
      else left.push(name);
    }
    return left;
  };

  // The scheduler must never see a rejection (see scheduler.ts): anything unexpected is this task's failure.
  const runOne = (name: string): Promise<void> =>
    decide(name).catch((error: unknown) => {
      if (!status.has(name)) fail(name, error, 0);
    });

  const decide = async (name: string): Promise<void> => {
    const node = graph.nodes.get(name)!;
    const brokenDep = node.deps.find((dep) => {
      const s = status.get(dep);
      return s === 'failed' || s === 'skipped' || s === 'not-started' || s === 'interrupted';
    });
    if (brokenDep !== undefined && options.keepGoing && !signal.aborted) {
      status.set(name, 'skipped');
      const dependency = status.get(brokenDep) === 'skipped' ? summary.skipped.find((s) => s.task === brokenDep)?.dependency ?? brokenDep : brokenDep;
      summary.skipped.push({ task: name, dependency });
      reporter.emit({ type: 'skipped', task: name, dependency });
      return;
    }
    if (brokenDep !== undefined || stopping || signal.aborted) return settle(name, 'not-started');

    if (isGroup(node)) return settleGroup(node);
    const begun = Date.now();
    let assessment;
    try {
      const called = calledChecks.get(name);
      const own = !called && node.spec.check ? checkSetting(name, node.spec, checkPlace) : undefined;
      assessment = await assess({ ...assessOptions(node), callCheck: called?.outcome ?? (() => own && node.spec.check?.(own.context)) });
      (called ?? own)?.log.close();
    } catch (error) {
      if (error instanceof InputNotBuiltYet && options.dryRun && ranNow.has(error.producer)) {
        // -n on a fresh tree: the input will exist once its producer has run.
        results.set(name, `would-run:${name}`);
        ranNow.add(name);
        settle(name, 'would-run');
        reporter.emit({ type: 'would-run', task: name, reasons: [{ kind: 'dep-ran', dep: error.producer, dryRun: true }], ...shownCommands(node) });
        return;
      }
      return fail(name, error, Date.now() - begun);
    }
    // Interrupted while checking: nothing is known, and nothing recorded may be lost.
    if (signal.aborted) return settle(name, 'not-started');

    if (assessment.reasons.length === 0 && store.get(name)) return settleUpToDate(name, assessment);
    if (options.dryRun) {
      results.set(name, `would-run:${name}`);
      ranNow.add(name);
      settle(name, 'would-run');
      const cache = options.cache && (await options.cache.explain(node, assessment.parts, ranNow, signal));
      reporter.emit({ type: 'would-run', task: name, reasons: assessment.reasons, ...shownCommands(node), ...(cache ? { cache } : {}) });
      return;
    }

    // Removed before the run, written only after success: a failed or killed run is never "up to date".
    // If the removal cannot be written (a full disk), the task does not start.
    store.delete(name);
    const hit = await options.cache?.lookup(node, assessment.parts, signal);
    reporter.emit({ type: 'start', task: name, reasons: assessment.reasons, ...(node.spec.pool === 'console' ? { terminal: true } : {}), ...(hit ? { cache: hit.from } : {}) });
    const log = new TaskLog(path.join(logsDir, `${name}.log`), (line) => reporter.emit({ type: 'output', task: name, line }));
    const timeout = timeoutSignal(signal, node.spec.timeout);
    const taskSignal = timeout.signal;
    try {
      // A hit whose blobs prove missing or corrupt runs the task after all.
      const restored = hit !== undefined && (await hit.restore(taskSignal));
      if (!restored) await untilAborted(runner(node, contextFor(node, log, taskSignal)), taskSignal);
      disk.forget();
      const outputs = recordOutputs(node, graph.root, disk, options.stamps);
      const fileDigests = [...outputs].flatMap(([file, out]) => (out.kind === 'file' ? [[file, out.digest]] : []));
      // Early cutoff: dependents see the output digests, so byte-identical outputs stop the rebuild here.
      const result = fileDigests.length > 0 ? sha256(canonicalJson(Object.fromEntries(fileDigests))) : `run:${randomUUID()}`;
      const durationMs = Date.now() - begun;
      store.put(name, { parts: assessment.parts, outputs, result, finishedAt: Date.now(), durationMs });
      if (!restored) await options.cache?.save(node, outputs, durationMs, taskSignal);
      results.set(name, result);
      ranNow.add(name);
      if (restored) {
        status.set(name, 'ran');
        (summary.restored ??= []).push(name);
      } else settle(name, 'ran');
      reporter.emit({ type: 'done', task: name, durationMs, ...(restored ? { cache: hit!.from } : {}) });
    } catch (error) {
      log.keep();
      disk.forget();
      if (signal.aborted) {
        settle(name, 'interrupted');
        reporter.emit({ type: 'interrupted', task: name });
      } else if (taskSignal.aborted) {
        fail(name, new TaskFailure(`task '${name}' timed out after ${node.spec.timeout} ms`), Date.now() - begun);
      } else {
        fail(name, error, Date.now() - begun);
      }
    } finally {
      timeout.dispose();
      log.close();
      if (log.writeError) reporter.emit({ type: 'warning', message: `could not write the log ${log.path}: ${log.writeError.message}` });
    }
  };

  const left = settleWhatIsUpToDate();
  if (left.length > 0) await schedule(graph, left, options.jobs, runOne);
  // A check called early, for a task that then never started (a failure stopped the build).
  for (const { log } of calledChecks.values()) log.close();
  if (options.cache && !options.dryRun) summary.cache = options.cache.finish();
  summary.wallMs = Date.now() - started;
  return summary;
}

/** A task's declared commands, shell-quoted, for a dry run's event (nothing when it has none). */
function shownCommands(node: Node): { commands?: string[] } {
  return node.commands.length > 0 ? { commands: node.commands.map(shellQuote) } : {};
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

