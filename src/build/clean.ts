// `--clean`: tears down and removes what the runs of the named tasks made, dependents first, as
// a container is stopped before its root folder goes. Planned first (pure: the graph and the
// records in, the steps out), then printed (`--clean -n`) or carried out; a dry run is the same
// plan, not a flag threaded through the removal.
//
// What is removed: a task's outputs that it still declares and that its last successful run
// recorded, its record, and nothing else (never the Taskfile's folder or a folder holding it).
// What a task's run made elsewhere is its `clean` step's to undo.
import fs from 'node:fs';
import path from 'node:path';
import type { Disk } from '../base/disk.ts';
import { Interrupted, TaskFailure } from '../base/errors.ts';
import { closure, type Graph } from '../graph/graph.ts';
import { acquireLock } from '../state/lock.ts';
import { loadState, saveState, statePaths, type TaskRecord } from '../state/state.ts';
import { commandsSettled, makeContext } from '../launch/task-context.ts';
import { TaskLog } from '../launch/task-log.ts';
import { untilAborted } from '../launch/timeout-signal.ts';

export type CleanStep =
  /** Run the task's `clean` step. */
  | { kind: 'teardown'; task: string }
  /** Remove a recorded output, file or folder. */
  | { kind: 'remove'; task: string; file: string }
  /** Remove the task's record. `undeclared`: the Taskfile no longer declares it, so its outputs are left. */
  | { kind: 'forget'; task: string; undeclared?: boolean };

/**
 * The steps of `--clean` for these targets (every task, if none):
 *
 * 1. each target with a `clean` step, and each task that depends on a target (transitively) and
 *    has one, is torn down, dependents before dependencies: its clean step runs, then its record
 *    is removed. A dependent torn down keeps its outputs: it was not named, and without its
 *    record the next build runs it again anyway;
 * 2. then the targets' recorded outputs are removed, dependents before dependencies, each task's
 *    record after its outputs.
 *
 * With no target, every task is a target: each with a clean step is torn down, each with a
 * record loses its outputs and record, and records of tasks the Taskfile no longer declares are
 * forgotten (their outputs are not theirs to remove any more).
 */
export function planClean(graph: Graph, records: ReadonlyMap<string, TaskRecord>, targets: readonly string[]): CleanStep[] {
  // Dependencies first over the whole Taskfile; reversed, dependents come first.
  const order = closure(graph, [...graph.nodes.keys()]).reverse();
  const hasClean = (name: string) => typeof graph.nodes.get(name)!.spec.clean === 'function';
  const named = new Set(targets.length > 0 ? targets : order);
  const dependents = targets.length > 0 ? dependentsOf(graph, targets) : new Set<string>();
  const steps: CleanStep[] = [];
  const forgotten = new Set<string>();
  for (const name of order) {
    if (!hasClean(name) || !(named.has(name) || dependents.has(name))) continue;
    steps.push({ kind: 'teardown', task: name });
    if (records.has(name)) {
      steps.push({ kind: 'forget', task: name });
      forgotten.add(name);
    }
  }
  for (const name of order) {
    const record = records.get(name);
    if (!record || !named.has(name)) continue;
    for (const file of graph.nodes.get(name)!.outputs) {
      if (record.outputs.has(file) && !holds(file, graph.root)) steps.push({ kind: 'remove', task: name, file });
    }
    if (!forgotten.has(name)) steps.push({ kind: 'forget', task: name });
  }
  if (targets.length === 0) {
    for (const name of records.keys()) if (!graph.nodes.has(name)) steps.push({ kind: 'forget', task: name, undeclared: true });
  }
  return steps;
}

/** Every task that depends on one of these, directly or through others. */
function dependentsOf(graph: Graph, names: readonly string[]): Set<string> {
  const found = new Set<string>();
  const stack = [...names];
  while (stack.length > 0) {
    for (const dependent of graph.nodes.get(stack.pop()!)!.dependents) {
      if (!found.has(dependent)) {
        found.add(dependent);
        stack.push(dependent);
      }
    }
  }
  return found;
}

/** True when `file` is the folder `root` or a folder holding it: never removed, whatever is declared. */
function holds(file: string, root: string): boolean {
  return !path.relative(file, root).startsWith('..');
}

/** How a step is shown: done (`removed x`) or, for `-n`, to be done (`would remove x`). */
export function describeStep(step: CleanStep, root: string, done: boolean): string {
  switch (step.kind) {
    case 'teardown':
      return done ? `tore down ${step.task}` : `would tear down ${step.task} (its clean step)`;
    case 'remove': {
      const shown = path.relative(root, step.file);
      return `${done ? 'removed' : 'would remove'} ${shown.startsWith('..') ? step.file : shown}`;
    }
    case 'forget':
      return `${done ? 'forgot' : 'would forget'} ${step.task}${step.undeclared ? ' (no longer declared; its outputs are left in place)' : ''}`;
  }
}

export interface CleanOptions {
  graph: Graph;
  /** Checked names; none means every task. */
  targets: readonly string[];
  disk: Disk;
  /** `-n`: print the steps, do none of them, create and lock nothing. */
  dryRun: boolean;
  /** Prints one line. */
  print: (line: string) => void;
  /** The run's interrupt signal: a clean step's commands are stopped, and no step starts after it. */
  signal: AbortSignal;
  /** Hands the lock's release to whoever must release it on a second Ctrl-C. */
  holdLock: (release: () => void) => void;
}

/** Runs `--clean`; resolves to the exit status, or throws a TaskError (a failed clean step: exit 1; an interrupt: 130). */
export async function runClean(options: CleanOptions): Promise<number> {
  const { graph, print, signal } = options;
  const stateDir = path.join(graph.root, '.task');
  if (!fs.existsSync(stateDir)) {
    print('task: nothing recorded');
    return 0;
  }
  if (options.dryRun) {
    const store = loadState(stateDir, { journal: false });
    for (const message of store.warnings) process.stderr.write(`task: warning: ${message}\n`);
    const steps = planClean(graph, store.tasks, options.targets);
    for (const step of steps) print(describeStep(step, graph.root, false));
    if (steps.length === 0) print('task: nothing to clean');
    return 0;
  }
  const release = acquireLock(statePaths(stateDir).lock);
  options.holdLock(release);
  const store = loadState(stateDir, { journal: true });
  try {
    for (const message of store.warnings) process.stderr.write(`task: warning: ${message}\n`);
    const steps = planClean(graph, store.tasks, options.targets);
    for (const step of steps) {
      if (signal.aborted) throw new Interrupted('interrupted');
      if (step.kind === 'teardown') await tearDown(step.task, graph, stateDir, print, signal);
      else if (step.kind === 'remove') options.disk.remove(step.file);
      else store.delete(step.task);
      print(describeStep(step, graph.root, true));
    }
    if (steps.length === 0) print('task: nothing to clean');
    return 0;
  } finally {
    // A clean step stopped by an interrupt: its commands are gone before the lock is.
    await commandsSettled();
    try {
      // Records removed so far are in the journal already; this folds them into the store.
      if (store.changed) await saveState(stateDir, store);
    } finally {
      release();
    }
  }
}

/** Runs one task's clean step; its output goes to `.task/logs/NAME.clean.log` and is printed. */
async function tearDown(name: string, graph: Graph, stateDir: string, print: (line: string) => void, signal: AbortSignal): Promise<void> {
  const spec = graph.nodes.get(name)!.spec;
  const log = new TaskLog(path.join(statePaths(stateDir).logs, `${name}.clean.log`), (line) => print(`${name} | ${line}`));
  const context = makeContext({ name, root: graph.root, stateDir, values: spec.values ?? {}, signal, log });
  let failed = false;
  let failure: unknown;
  try {
    await untilAborted(Promise.resolve().then(() => spec.clean!(context)), signal);
  } catch (error) {
    log.keep();
    failed = true;
    failure = error;
  } finally {
    log.close();
  }
  if (!failed) return;
  if (signal.aborted) throw new Interrupted('interrupted');
  const message = (failure instanceof Error ? failure.message : String(failure)).replace(/\s*\n\s*/g, ' ');
  const where = fs.existsSync(log.path) ? ` (log: ${log.path})` : '';
  throw new TaskFailure(`task '${name}': its clean step failed: ${message}; nothing further was removed${where}`);
}
