// The `task` command: parse, load the Taskfile, check the graph, then list, graph, clean or build.
// Typed errors are caught here, once, and mapped to the exit status.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, usage, type CliArgs } from './args.ts';
import { chooseDisplay } from '../report/display.ts';
import { realDisk, withStatCache, type Disk, type Stat } from '../base/disk.ts';
import type { CheckBook } from '../decide/early-check.ts';
import type { TaskSpec } from '../taskfile/types.ts';
import { describeSystemError, TaskError, UsageError } from '../base/errors.ts';
import type { BuildSummary, Reporter } from '../report/events.ts';
import { FileStamps } from '../state/file-stamps.ts';
import { checkInputsExist } from '../decide/fingerprint.ts';
import { buildGraph, checkTargets, closure, type Graph } from '../graph/graph.ts';
import { acquireLock } from '../state/lock.ts';
import { PlainReporter, type ReportMode } from '../report/plain-reporter.ts';
import { checkSnapshot, declarationDigest, writeSnapshot } from '../decide/snapshot.ts';
import { writeLoadRecord } from '../decide/load-record.ts';
import { recordLoadInputs, type LoadInputs } from '../taskfile/load-inputs.ts';
import { answersFromRecords } from './quick-no-op.ts';
import { loadState, saveState, statePaths } from '../state/state.ts';
import { discoveredFiles } from '../state/discovered-files.ts';
import { resolveCache } from '../cache/settings.ts';
import { isGroup } from '../taskfile/group.ts';
import { loadTaskfile, locateTaskfile, type LoadedTaskfile, type ModuleImporter } from '../taskfile/load.ts';

// The build and what it brings (the scheduler, the command runner, child_process) load only when
// a build decides task by task: --list, --graph and a no-op its snapshot answers never need them.
const loadBuild = () => Promise.all([import('../build/build.ts'), import('../build/run.ts'), import('../build/execute.ts'), import('../build/executor.ts')]);
const loadTaskContext = () => import('../launch/task-context.ts');

export { taskfileImporter } from './taskfile-importer.ts';

export interface CliEnvironment {
  importModule: ModuleImporter;
  cwd?: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** The file system and its clock (tests run the CLI in-process with a clock ahead of real time). */
  disk?: Disk;
}

const brokenPipesIgnored = new WeakSet<NodeJS.WritableStream>();

/**
 * A reader that goes away (`task all 2>&1 | head`) must not stop a build half way: what is left
 * to print is dropped, and the build finishes and records its results as usual.
 */
function ignoreBrokenPipe(stream: NodeJS.WritableStream): void {
  if (brokenPipesIgnored.has(stream)) return;
  brokenPipesIgnored.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const stderr = env.stderr ?? process.stderr;
  // Warnings and the interrupt message go to process.stderr whatever the caller passed.
  for (const stream of [env.stdout ?? process.stdout, stderr, process.stderr]) ignoreBrokenPipe(stream);
  try {
    return await run(parseArgs(argv), env, argv);
  } catch (error) {
    if (error instanceof TaskError || typeof (error as TaskError)?.exitStatus === 'number') {
      stderr.write(`task: ${(error as Error).message}\n`);
      return (error as TaskError).exitStatus;
    }
    // What the system refused (a folder this user may not enter, a full disk) is the user's to
    // fix, said in one line; a stack trace is for the engine's own bugs.
    const systemError = describeSystemError(error);
    if (systemError !== undefined) {
      stderr.write(`task: ${systemError}\n`);
      return 1;
    }
    stderr.write(`task: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}

async function run(args: CliArgs, env: CliEnvironment, argv: readonly string[]): Promise<number> {
  // With --json, stdout carries JSON lines only: every other message goes to stderr.
  const output = env.stdout ?? process.stdout;
  const stdout = args.json ? (env.stderr ?? process.stderr) : output;
  if (args.help) {
    stdout.write(usage);
    return 0;
  }
  if (args.version) {
    const { packageRoot } = await import('./init.ts');
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    stdout.write(`task ${pkg.version}\n`);
    return 0;
  }
  if (args.completion !== undefined) {
    const { completionScript } = await import('./completion.ts');
    stdout.write(completionScript(args.completion));
    return 0;
  }
  const cwd = env.cwd ?? process.cwd();
  if (args.init) {
    const { writeStarter } = await import('./init.ts');
    const folder = path.resolve(cwd, args.directory ?? '.');
    if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`no folder ${folder}`);
    const file = writeStarter(folder);
    stdout.write(`task: wrote ${file}; run \`task\` to build it, \`task --list\` to see its tasks\n`);
    return 0;
  }
  if (args.trace !== undefined) {
    // Relative to where `task` was started, as a shell's redirection is; checked before anything runs.
    args.trace = path.resolve(cwd, args.trace);
    (await import('../report/trace.ts')).checkTraceFile(args.trace);
  }
  // The same for the cache's folder: the build itself runs in the Taskfile's folder.
  if (args.cacheDir !== undefined) args.cacheDir = path.resolve(cwd, args.cacheDir);
  const file = locateTaskfile({ taskfile: args.taskfile, directory: args.directory, cwd });
  if (args.verbose) stdout.write(`task: using ${file}\n`);
  // As make -C: the build runs in the Taskfile's folder, so that a path relative to it means the
  // same in inputs and outputs, in commands, and in what a run or the Taskfile itself opens.
  process.chdir(path.dirname(file));
  // --watch loads the Taskfile again after an edit: the modules it compiles are noted for that.
  const modules = args.watch ? new (await import('../taskfile/reload.ts')).TaskfileModules(file) : undefined;
  // Only a plain build may record what the load compiled: -n, --list and the like change nothing.
  const load = () => loadTaskfile(file, args.overrides, env.importModule, { record: answersFromRecords(args) });
  // A build that may end in a snapshot notes what the load read, for the next run's quick no-op.
  let loadRecord: LoadRecordDraft | undefined;
  let taskfile: LoadedTaskfile;
  if (modules) taskfile = await modules.load(load);
  else if (answersFromRecords(args)) {
    const startedAt = (env.disk ?? realDisk).now();
    const loaded = await recordLoadInputs(load);
    taskfile = loaded.value;
    loadRecord = { argv, cwd, inputs: loaded.inputs, startedAt };
  } else taskfile = await load();
  if (args.completeTargets) {
    // For the completion scripts: names only, one a line; nothing is built, created or locked.
    const names = [...taskfile.tasks.keys(), ...[...taskfile.params.keys()].map((name) => `${name}=`)];
    stdout.write(names.length > 0 ? `${names.join('\n')}\n` : '');
    return 0;
  }
  if (!args.list && !args.clean && !args.graph && !args.compdb) {
    const targets = args.targets.length > 0 ? args.targets : [defaultTarget(taskfile)];
    const mode: ReportMode = args.question ? 'question' : args.explain ? 'explain' : args.dryRun ? 'dry-run' : 'build';
    const disk = env.disk ?? realDisk;
    const errors = env.stderr ?? process.stderr;
    if (modules) return watchBuilds({ args, taskfile, targets, mode, stdout, output, errors, disk }, () => modules.load(load), modules);
    return runBuild({ args, taskfile, targets, mode, stdout, output, errors, disk, loadRecord });
  }
  const graph = buildGraph(taskfile.tasks, taskfile.root);
  if (args.list) {
    // As --compdb: targets narrow the listing to what they need (mistyped ones are refused).
    if (args.targets.length > 0) checkTargets(graph.nodes, args.targets);
    const only = args.targets.length > 0 ? new Set(closure(graph, args.targets)) : undefined;
    stdout.write(listing(taskfile, only));
    return 0;
  }
  if (args.compdb) {
    // As ninja -t compdb: every compile the Taskfile declares, unless targets narrow it.
    const { compileCommands } = await import('../graph/compdb.ts');
    const order = args.targets.length > 0 ? closure(graph, args.targets) : [...graph.nodes.keys()];
    stdout.write(`${JSON.stringify(compileCommands(graph, order), null, 2)}\n`);
    return 0;
  }
  const targets = args.targets.length > 0 ? args.targets : args.clean ? [] : [defaultTarget(taskfile)];
  if (args.clean) return cleanTargets({ graph, targets, dryRun: args.dryRun, stdout });
  return printGraph({ args, taskfile, graph, targets, output: stdout, messages: env.stderr ?? process.stderr, disk: env.disk ?? realDisk });
}

/**
 * `--watch`: builds, then again on each change of an input or of the Taskfile (src/cli/watch.ts),
 * each build as `task` alone would make it (its own lock, display and summary), until Ctrl-C.
 */
async function watchBuilds(first: BuildRun, reload: () => Promise<LoadedTaskfile>, modules: import('../taskfile/reload.ts').TaskfileModules): Promise<number> {
  // Usage mistakes come first, before anything is built or watched.
  checkTargets(first.taskfile.tasks, first.targets);
  const { watchAndBuild } = await import('./watch.ts');
  const { root } = first.taskfile;
  let current = first;
  return watchAndBuild({
    build: () => runBuild(current),
    graph: () => {
      const graph = buildGraph(current.taskfile.tasks, root);
      return { graph, order: closure(graph, current.targets) };
    },
    discovered: (order) => discoveredFiles(path.join(root, '.task'), root, order),
    taskfileModules: () => modules.files,
    reload: async () => {
      modules.forget();
      const taskfile = await reload();
      const targets = current.args.targets.length > 0 ? current.args.targets : [defaultTarget(taskfile)];
      checkTargets(taskfile.tasks, targets);
      current = { ...current, taskfile, targets };
    },
    glob: (pattern) => first.disk.glob(pattern, root),
    stateDir: path.join(root, '.task'),
    root,
    print: (line) => first.stdout.write(`${line}\n`),
  });
}

/**
 * `--graph[=dot|svg|png]`: the closure of the targets, each task drawn as the dry run (`-n`)
 * decides it, stale or up to date. Written to stdout, as `ninja -t graph` does; png, being
 * binary, only when stdout is not a terminal (`task --graph=png > graph.png`).
 */
async function printGraph(options: { args: CliArgs; taskfile: LoadedTaskfile; graph: Graph; targets: string[]; output: NodeJS.WritableStream; messages: NodeJS.WritableStream; disk: Disk }): Promise<number> {
  const { args, graph, targets, output } = options;
  const order = closure(graph, targets);
  if (args.graphFormat === 'png' && (output as NodeJS.WriteStream).isTTY === true) {
    throw new UsageError('--graph=png writes binary data, not to a terminal: redirect it to a file (task --graph=png > graph.png)');
  }
  const [{ PlanCollector }, { toDot }] = await Promise.all([import('../report/json-reporter.ts'), import('../graph/dot.ts')]);
  const decisions = new PlanCollector();
  // The same decisions as -n, with its messages (-v) kept off stdout, where the graph goes.
  const status = await runBuild({ args, taskfile: options.taskfile, targets, mode: 'dry-run', stdout: options.messages, output: options.messages, errors: options.messages, disk: options.disk, reporter: decisions });
  if (status === 130) return 130;
  const dot = toDot(graph, order, decisions.entries);
  if (args.graphFormat === 'dot') {
    output.write(dot);
    return 0;
  }
  const { renderPng, renderSvg } = await import('../graph/picture.ts');
  output.write(args.graphFormat === 'svg' ? await renderSvg(dot) : await renderPng(dot));
  return 0;
}

function defaultTarget(taskfile: LoadedTaskfile): string {
  if (taskfile.defaultTarget === undefined) {
    throw new UsageError(`${taskfile.file} has no default export; name a target: ${[...taskfile.tasks.keys()].join(', ')}`);
  }
  return taskfile.defaultTarget;
}

/** The tasks (in the Taskfile's order; only those in `only`, if given) and every parameter. */
function listing(taskfile: LoadedTaskfile, only?: ReadonlySet<string>): string {
  const tasks = [...taskfile.tasks.values()].filter((def) => only === undefined || only.has(def.name));
  const width = Math.max(...tasks.map((def) => def.name.length));
  const lines = ['tasks:'];
  for (const def of tasks) {
    const mark = def.name === taskfile.defaultTarget ? ' (default)' : '';
    lines.push(`  ${def.name.padEnd(width)}  ${def.spec.description ?? ''}${mark}`.trimEnd());
  }
  if (taskfile.params.size > 0) {
    lines.push('parameters (NAME=VALUE, default shown):');
    const params = [...taskfile.params.values()].map((p) => ({ ...p, shown: `${p.name}=${JSON.stringify(p.defaultValue)}` }));
    const paramWidth = Math.min(30, Math.max(...params.map((p) => p.shown.length)));
    for (const p of params) {
      const current = p.value === p.defaultValue ? '' : ` (now ${JSON.stringify(p.value)})`;
      lines.push(`  ${p.shown.padEnd(paramWidth)}  ${p.description}${current}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

async function cleanTargets(options: { graph: Graph; targets: string[]; dryRun: boolean; stdout: NodeJS.WritableStream }): Promise<number> {
  const { graph, targets, stdout } = options;
  // Usage mistakes come first, before anything is created or locked.
  checkTargets(graph.nodes, targets);
  const [{ runClean }, taskContext] = await Promise.all([import('../build/clean.ts'), loadTaskContext()]);
  const interrupt = interrupts();
  interrupt.killCommandsWith(taskContext.killCommandsNow);
  try {
    return await runClean({
      graph,
      targets,
      disk: realDisk,
      dryRun: options.dryRun,
      print: (line) => stdout.write(`${line}\n`),
      signal: interrupt.signal,
      holdLock: interrupt.holdLock,
    });
  } finally {
    interrupt.dispose();
  }
}

/**
 * Ctrl-C, SIGTERM or SIGHUP while tasks, checks, commands or clean steps run: the first aborts
 * `signal`, which they all listen to (commands get SIGTERM, then SIGKILL after a grace period);
 * a second kills the commands, releases the lock and exits at once. SIGHUP too: a closed terminal
 * must not orphan commands that run in their own process groups.
 */
function interrupts(): { signal: AbortSignal; holdLock(release: () => void): void; killCommandsWith(kill: () => void): void; dispose(): void } {
  const controller = new AbortController();
  // Every running task, check and command listens to this one signal.
  setMaxListeners(0, controller.signal);
  let release = () => {};
  let killCommands = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // Second Ctrl-C: no more waiting. Records of finished tasks are already in the journal.
      killCommands();
      release();
      process.exit(130);
    }
    process.stderr.write(`\ntask: ${signal}: stopping running commands (Ctrl-C again to kill them now)\n`);
    controller.abort();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    holdLock: (releaseLock) => {
      release = releaseLock;
    },
    killCommandsWith: (kill) => {
      killCommands = kill;
    },
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

interface BuildRun {
  args: CliArgs;
  taskfile: LoadedTaskfile;
  targets: string[];
  mode: ReportMode;
  /** Where messages go (stderr with --json). */
  stdout: NodeJS.WritableStream;
  /** The real stdout, where the display (or --json's lines) goes. */
  output: NodeJS.WritableStream;
  /** stderr: failures, warnings and the summary. */
  errors: NodeJS.WritableStream;
  disk: Disk;
  /** Where the events go instead of a display (--graph's collector of decisions). */
  reporter?: Reporter;
  /** What the Taskfile's load read, to record beside the snapshot (src/decide/load-record.ts). */
  loadRecord?: LoadRecordDraft;
}

interface LoadRecordDraft {
  argv: readonly string[];
  cwd: string;
  inputs: LoadInputs;
  startedAt: number;
}

async function runBuild(options: BuildRun): Promise<number> {
  const { args, taskfile, targets, mode, disk } = options;
  const { root } = taskfile;
  const stateDir = path.join(root, '.task');
  const paths = statePaths(stateDir);
  const building = mode === 'build';
  // -j: the build's slots, and how many checks the snapshot may wait for at once.
  const jobs = args.jobs ?? os.availableParallelism();
  const started = disk.now();
  // Usage and Taskfile mistakes come first, before anything is created or locked.
  checkTargets(taskfile.tasks, targets);
  const cacheSettings = building || mode === 'explain' ? resolveCache({ url: args.cacheUrl, mode: args.cacheMode, dir: args.cacheDir, env: process.env }) : undefined;
  let release = () => {};
  const interrupt = interrupts();
  // Checks the snapshot asked, with their answers: handed to the build's run if the snapshot missed.
  let checks: CheckBook | undefined;
  try {
    // --trace skips the no-op shortcut: the trace shows each task found up to date, with when.
    if (mode !== 'explain' && !args.force && args.trace === undefined) {
      // No lock for this: it only reads, and a run holding the lock has a journal, which it misses on.
      const verdict = checkSnapshot({ stateDir, root, targets, tasks: taskfile.tasks, disk });
      let miss = 'miss' in verdict ? verdict.miss : undefined;
      if ('upToDate' in verdict) {
        let notUpToDate: string | undefined;
        ({ checks, notUpToDate } = await askChecks(verdict.checks, taskfile, stateDir, interrupt.signal, jobs));
        if (notUpToDate) miss = `task '${notUpToDate}': its check does not say up to date`;
      }
      if (args.verbose) options.stdout.write(`task: snapshot: ${miss ? `not used, ${miss}` : 'every task up to date'}\n`);
      if (interrupt.signal.aborted) return 130;
      if ('upToDate' in verdict && !miss) {
        // The snapshot answered, but the load record was missing or stale: the next run needs no load.
        if (options.loadRecord && verdict.checks.length === 0) writeLoadRecord({ stateDir, ...options.loadRecord, taskfile: taskfile.file, defaultTarget: taskfile.defaultTarget, declarations: verdict.declarations, disk });
        return await reportAllUpToDate(verdict.upToDate, disk.now() - started, options);
      }
    }
    const graph = buildGraph(taskfile.tasks, root);
    const order = closure(graph, targets);
    // -f reruns the named tasks, not their dependencies: a group names no work of its own.
    const forcedGroups = args.force ? targets.filter((name) => isGroup(graph.nodes.get(name)!.spec)) : [];
    if (forcedGroups.length > 0) {
      options.errors.write(`task: warning: -f reruns the tasks named, not their dependencies, and ${forcedGroups.map((name) => `'${name}'`).join(', ')} ${forcedGroups.length === 1 ? 'is a group' : 'are groups'}: name the tasks to rerun\n`);
    }
    // The build's stat cache: after a build in which nothing ran, it holds what the snapshot records.
    const stats = new Map<string, Stat | undefined>();
    // Before anything runs: an input that nothing provides is a Taskfile mistake, found now rather than mid-build.
    checkInputsExist(graph, order, withStatCache(disk, stats));
    if (building) {
      fs.mkdirSync(stateDir, { recursive: true });
      release = acquireLock(paths.lock);
      interrupt.holdLock(release);
    }
    const store = loadState(stateDir, { journal: building });
    const stamps = new FileStamps(disk, store.files);
    // A task that talks to the user at the terminal (a shell) gets plain lines around it, not the live display.
    const terminalTask = order.some((name) => graph.nodes.get(name)!.spec.pool === 'console');
    const [[{ build }, { Run }, { TaskExecutor }, { DryRunExecutor }], taskContext] = await Promise.all([loadBuild(), loadTaskContext()]);
    interrupt.killCommandsWith(taskContext.killCommandsNow);
    const setup = {
      graph,
      order,
      disk,
      store,
      stamps,
      stateDir,
      jobs,
      keepGoing: args.keepGoing,
      forced: new Set(args.force ? targets : []),
      signal: interrupt.signal,
      timeUpToDate: args.trace !== undefined,
    };
    let plan: import('../report/json-reporter.ts').PlanCollector | undefined;
    if (args.json && building) {
      // --json's plan says what will run and why before anything runs: the engine's own dry run
      // (as -n) decides it, with checks asked afresh; the build then decides again as usual.
      const { PlanCollector } = await import('../report/json-reporter.ts');
      plan = new PlanCollector();
      await build(new Run({ ...setup, reporter: plan }), new DryRunExecutor());
    }
    const reporter = await makeReporter(options, terminalTask, plan);
    for (const message of store.warnings) reporter.emit({ type: 'warning', message });
    const cache =
      cacheSettings
        ? (await import('../cache/open-cache.ts')).openCache(cacheSettings, { graph, recordOf: (task) => store.get(task), warn: (message) => reporter.emit({ type: 'warning', message }), env: process.env })
        : undefined;
    // -n, --explain and -q: the same decisions, with an executor that runs and records nothing.
    const run = new Run({ ...setup, stats, reporter, checks });
    checks = run.checks;
    const summary = await build(run, building ? new TaskExecutor({ cache }) : new DryRunExecutor({ cache }));
    await taskContext.commandsSettled();
    // After Ctrl-C a command may take its grace period to stop: the summary's time counts it, and
    // so does each interrupted task's in the timings log and trace.
    if (interrupt.signal.aborted) {
      summary.wallMs = run.disk.now() - run.started;
      run.timings.commandsStopped(run.disk.now());
    }
    if (building && summary.timings) {
      const { saveTimings } = await import('../build/timings.ts');
      for (const message of await saveTimings(summary.timings, { log: paths.timings, trace: args.trace })) reporter.emit({ type: 'warning', message });
    }
    let saveError: unknown;
    if (building && (store.changed || stamps.dirty || store.warnings.length > 0)) {
      // The summary is printed even when the state cannot be saved: what ran did run.
      await saveState(stateDir, store).catch((error: unknown) => (saveError = error));
    }
    const allUpToDate = summary.upToDate.length + summary.groups.length === order.length;
    if (building && allUpToDate && saveError === undefined && !interrupt.signal.aborted) {
      const declarations = declarationDigest(taskfile.tasks, root);
      const notWritten = writeSnapshot({ stateDir, targets, tasks: taskfile.tasks, graph, order, records: store, disk, stats, startedAt: started, declarations });
      if (args.verbose) options.stdout.write(`task: snapshot: ${notWritten ? `none taken, ${notWritten}` : 'taken for the next run'}\n`);
      const { loadRecord } = options;
      if (!notWritten && loadRecord) {
        // Only -v says why there is none, and -v itself never records (it prints more than a no-op).
        writeLoadRecord({ stateDir, ...loadRecord, taskfile: taskfile.file, defaultTarget: taskfile.defaultTarget, declarations, disk });
      }
    }
    const status = saveError !== undefined ? statusOfError(saveError) : exitStatus(summary, mode, interrupt.signal.aborted);
    await reporter.finish({ ...summary, exitStatus: status });
    if (saveError !== undefined) throw saveError;
    return status;
  } finally {
    // Logs of checks the snapshot asked, when no build took them over (closing twice is harmless).
    checks?.closeAll();
    interrupt.dispose();
    release();
  }
}

/**
 * Asks the checks a snapshot lists, in its order, as the build would ask them: each once, those
 * that answer with a promise together, at most -j at a time (early-check.ts). What they said is
 * returned in a CheckBook, for the build's run if it has to decide task by task, with the name of
 * a task whose check does not say up to date, if one does not.
 */
async function askChecks(names: readonly string[], taskfile: LoadedTaskfile, stateDir: string, signal: AbortSignal, jobs: number): Promise<{ checks?: CheckBook; notUpToDate?: string }> {
  if (names.length === 0) return {};
  const { CheckBook } = await import('../decide/early-check.ts');
  const checks = new CheckBook();
  const asked: Array<{ name: string; spec: TaskSpec }> = [];
  for (const name of names) {
    const spec = taskfile.tasks.get(name)?.spec;
    // A task that lost its check since the snapshot was taken: the build decides it.
    if (!spec?.check) break;
    asked.push({ name, spec });
  }
  const notUpToDate = asked.length < names.length ? names[asked.length] : undefined;
  const said = await checks.askAll(asked, { root: taskfile.root, stateDir, signal }, jobs);
  return { checks, notUpToDate: said ?? notUpToDate };
}

/** What a build that finds every task up to date reports, for a run the snapshot answered. */
async function reportAllUpToDate(tasks: string[], wallMs: number, options: BuildRun): Promise<number> {
  const reporter = await makeReporter(options, false);
  const grouping = (task: string) => isGroup(options.taskfile.tasks.get(task)!.spec);
  const groups = tasks.filter(grouping);
  reporter.emit({ type: 'plan', tasks, groups });
  for (const task of tasks) reporter.emit({ type: 'up-to-date', task, ...(grouping(task) ? { group: true } : {}) });
  const upToDate = tasks.filter((task) => !grouping(task));
  await reporter.finish({ ran: [], upToDate, groups, wouldRun: [], failed: [], skipped: [], notStarted: [], interrupted: [], wallMs, exitStatus: 0 });
  return 0;
}

function exitStatus(summary: BuildSummary, mode: ReportMode, interrupted: boolean): number {
  if (interrupted) return 130;
  // A Taskfile mistake found while building (an input nothing produces) is a Taskfile error.
  if (summary.failed.some(({ error }) => (error as TaskError).exitStatus === 2)) return 2;
  if (summary.failed.length > 0) return 1;
  if (mode === 'question' && summary.wouldRun.length > 0) return 1;
  return 0;
}

/** The exit status `main` gives for an error thrown out of a build. */
function statusOfError(error: unknown): number {
  if (error instanceof TaskError || typeof (error as TaskError)?.exitStatus === 'number') return (error as TaskError).exitStatus;
  return describeSystemError(error) !== undefined ? 1 : 70;
}

/**
 * The display: --json's lines, the live one (listr2), or plain lines, as --progress, --color,
 * the terminal and the environment say (src/display.ts).
 */
async function makeReporter(options: BuildRun, terminalTask: boolean, plan?: import('../report/json-reporter.ts').PlanCollector): Promise<Reporter> {
  const { args, mode, output } = options;
  if (options.reporter) return options.reporter;
  if (args.json) {
    const { JsonReporter } = await import('../report/json-reporter.ts');
    return new JsonReporter({ out: output, targets: options.targets, logsDir: statePaths(path.join(options.taskfile.root, '.task')).logs, plan });
  }
  const stream = output as NodeJS.WriteStream;
  const display = chooseDisplay({
    progress: args.progress,
    color: args.color,
    isTTY: stream.isTTY === true,
    columns: stream.isTTY === true ? stream.columns : undefined,
    env: process.env,
    liveAllowed: mode === 'build' && !args.verbose && !terminalTask,
  });
  if (display.live) {
    const { LazyTerminalReporter } = await import('../report/terminal-reporter.ts');
    return new LazyTerminalReporter(stream, { colour: display.colour, logsDir: statePaths(path.join(options.taskfile.root, '.task')).logs });
  }
  const logsDir = statePaths(path.join(options.taskfile.root, '.task')).logs;
  return new PlainReporter({ out: output, err: options.errors, logsDir, mode, verbose: args.verbose, colour: display.colour });
}
