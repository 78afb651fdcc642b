// `--watch`: build, then build again whenever a declared input of the targets' closure or the
// Taskfile (or a module of its own) changes, until Ctrl-C, as wireit's and go-task's --watch do.
// Changes are gathered for a quiet moment (the debounce) so that an editor's save or a
// `git checkout` makes one build. A change during a build queues exactly one more build after
// it. A build that fails, and a Taskfile that no longer loads, are reported and watching goes on.
// Inputs a run discovered (depfiles, ctx.discovered) are watched as declared ones are, from the
// records after each build. Declared outputs and the state folder never trigger a build: the build writes them.
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { describeSystemError, TaskError } from '../base/errors.ts';
import type { Graph } from '../graph/graph.ts';
import { isOutput, isWithin, watchPaths } from '../graph/watch-paths.ts';

/** What the watch loop asks of the CLI. */
export interface WatchSession {
  /** One build of the targets, with the Taskfile as last loaded; resolves to its exit status. */
  build(): Promise<number>;
  /** The graph and the targets' closure, with the Taskfile as last loaded; throws a graph mistake (a cycle). */
  graph(): { graph: Graph; order: readonly string[] };
  /** The inputs the last runs of these tasks discovered (depfiles, `ctx.discovered`), absolute. */
  discovered(order: readonly string[]): string[];
  /** The Taskfile and its own modules. */
  taskfileModules(): string[];
  /** Loads the Taskfile again (after it or one of its modules changed); throws what loading throws. */
  reload(): Promise<void>;
  /** Expands a glob input as the build does (absolute paths). */
  glob(pattern: string): string[];
  /** The state folder, never watched. */
  stateDir: string;
  /** The Taskfile's folder: changed paths are named relative to it. */
  root: string;
  print(line: string): void;
  /** How long the files must be quiet before a build starts. */
  debounceMs?: number;
}

/** Milliseconds of quiet after the last change before building: an editor's save is one build. */
export const defaultDebounceMs = 150;

/** Runs the session until SIGINT, SIGTERM or SIGHUP; resolves to 130. */
export async function watchAndBuild(session: WatchSession): Promise<number> {
  const { watch } = await import('chokidar');
  let stopped = false;
  let wake = () => {};
  const onSignal = () => {
    stopped = true;
    wake();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);

  /** Paths seen changing since the last build started; judged when the debounce fires. */
  const seen = new Set<string>();
  let due = false;
  let timer: NodeJS.Timeout | undefined;
  let watchers: FSWatcher[] = [];
  let watchedKey = '';
  const pathsNow = () => {
    const { graph, order } = session.graph();
    return watchPaths(graph, order, session.discovered(order));
  };
  let paths = pathsNow();
  let modules = new Set(session.taskfileModules());
  /** Each glob's matches at the last build, so that a deleted match counts too. */
  let globMatches = new Map<string, Set<string>>();
  const expandGlobs = () => {
    globMatches = new Map(paths.globs.map((glob) => [glob.pattern, new Set(safeGlob(session, glob.pattern))]));
  };

  const ignored = (file: string) => isWithin(file, session.stateDir) || isOutput(file, paths.outputs) || /(^|[\\/])(node_modules|\.git)([\\/]|$)/.test(path.relative(session.root, file));
  const onEvent = (file: string) => {
    if (ignored(file)) return;
    seen.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      due = true;
      wake();
    }, session.debounceMs ?? defaultDebounceMs);
  };

  /** (Re)creates the watchers when what to watch changed; resolves once they are ready. */
  const rewatch = async () => {
    const literal = [...new Set([...paths.literal, ...modules])].sort();
    const key = JSON.stringify([literal, paths.globs]);
    if (key === watchedKey) return;
    await Promise.all(watchers.map((w) => w.close()));
    const options = { ignoreInitial: true, ignored: (file: string) => ignored(path.resolve(file)), atomic: true };
    watchers = [watch(literal, options)];
    for (const glob of paths.globs) watchers.push(watch(glob.base, { ...options, depth: glob.depth }));
    await Promise.all(
      watchers.map((w) => {
        w.on('all', (_event, file) => onEvent(path.resolve(file)));
        w.on('error', (error) => session.print(`task: watching: ${(error as Error).message ?? String(error)}`));
        return new Promise<void>((resolve) => w.once('ready', () => resolve()));
      }),
    );
    watchedKey = key;
  };

  /** Which of the changed paths are the Taskfile's, and which inputs of the targets. */
  const judge = (files: string[]) => {
    const taskfile = files.filter((file) => modules.has(file));
    const inputs = files.filter((file) => {
      if (modules.has(file)) return false;
      if (paths.literal.some((input) => isWithin(file, input))) return true;
      return paths.globs.some((glob) => isWithin(file, glob.base) && (globMatches.get(glob.pattern)?.has(file) || safeGlob(session, glob.pattern).includes(file)));
    });
    return { taskfile, inputs };
  };

  const build = async () => {
    try {
      await session.build();
      // The run may have discovered inputs (a new #include): watched from now on.
      paths = pathsNow();
    } catch (error) {
      report(session, error);
    }
    expandGlobs();
  };

  try {
    expandGlobs();
    await rewatch();
    await build();
    while (!stopped) {
      await rewatch();
      if (stopped) break;
      const count = paths.literal.length + paths.globs.length;
      session.print(`task: watching ${count} input${count === 1 ? '' : 's'} and the Taskfile for changes (Ctrl-C to stop)`);
      let changes: ReturnType<typeof judge> = { taskfile: [], inputs: [] };
      while (!stopped && changes.taskfile.length + changes.inputs.length === 0) {
        if (!due) await new Promise<void>((resolve) => (wake = resolve));
        if (!due) continue;
        due = false;
        changes = judge([...seen]);
        seen.clear();
      }
      if (stopped) break;
      const named = [...changes.taskfile, ...changes.inputs].map((file) => path.relative(session.root, file) || file);
      session.print(`task: ${named.slice(0, 3).join(', ')}${named.length > 3 ? ` and ${named.length - 3} more` : ''} changed; building again`);
      if (changes.taskfile.length > 0) {
        try {
          await session.reload();
          paths = pathsNow();
        } catch (error) {
          // A Taskfile being edited may not load for a while: say why, and wait for the next save.
          report(session, error);
          continue;
        } finally {
          modules = new Set(session.taskfileModules());
        }
        expandGlobs();
        await rewatch();
      }
      if (stopped) break;
      await build();
    }
    return 130;
  } finally {
    clearTimeout(timer);
    for (const signal of signals) process.off(signal, onSignal);
    await Promise.all(watchers.map((w) => w.close()));
  }
}

function safeGlob(session: WatchSession, pattern: string): string[] {
  try {
    return session.glob(pattern);
  } catch {
    return [];
  }
}

/** A build or a reload that threw: one line, as `main` would print it, and watching goes on. */
function report(session: WatchSession, error: unknown): void {
  if (error instanceof TaskError || typeof (error as TaskError)?.exitStatus === 'number') {
    session.print(`task: ${(error as Error).message}`);
    return;
  }
  const systemError = describeSystemError(error);
  if (systemError === undefined) throw error;
  session.print(`task: ${systemError}`);
}
