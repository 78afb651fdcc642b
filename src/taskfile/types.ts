// The public shapes of a Taskfile: what `task()` accepts and what a `run` receives.
import type { Pool } from './pool.ts';

/** JSON-able data a task depends on; part of its fingerprint. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** Options of `ctx.exec`. Commands run in the Taskfile's folder unless `cwd` says otherwise. */
export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Text or bytes written to the command's standard input. */
  input?: string | Uint8Array;
  /** When false, a non-zero exit is returned instead of failing the task. Default true. */
  reject?: boolean;
  /** Milliseconds before the command is stopped and the task fails. */
  timeout?: number;
  /** When true, the command's output is not copied to the task's log and display (it is still returned). */
  quiet?: boolean;
  /**
   * 'inherit': the command gets `task`'s own standard input, output and error (the user's
   * terminal) and stays in `task`'s process group, so that it can read the terminal (an
   * interactive shell). Its output is neither logged nor returned. Only in a task declared with
   * `pool: 'console'`. Default 'pipe'.
   */
  stdio?: 'pipe' | 'inherit';
}

/** What `ctx.exec` resolves to. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** -1 when a signal ended the command (with `reject: false`). */
  exitCode: number;
  /** The signal that ended the command (`SIGKILL`), when one did. */
  signal?: string;
}

/** What a task's `run` and `check` receive. */
export interface TaskContext {
  /** The task's name. */
  name: string;
  /** The folder of the Taskfile: relative inputs, outputs and commands are resolved from here. */
  root: string;
  /** The task's `values`, as declared. */
  values: Record<string, Value>;
  /** Aborted when the build is interrupted or the task times out. */
  signal: AbortSignal;
  /** Runs a command (no shell); its output goes to the task's log and the live display. */
  exec(file: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Writes a line to the task's log and the live display. */
  log(line: string): void;
  /** The task's state folder (`.task/tasks/NAME`), kept between runs; for pid files and console logs. */
  stateDir: string;
  /**
   * Files the run found it read (headers a compiler reported), relative to the root or absolute.
   * After a successful run they are recorded as inputs of the task, as a `depfile`'s are.
   */
  discovered(paths: readonly string[]): void;
}

/** A task as `task()` returns it; usable in another task's `deps`. */
export interface TaskRef {
  readonly name: string;
}

/** The fields of `task(name, spec)`. See the README for what each means to "up to date". */
export interface TaskSpec {
  /** One line, shown by `task --list`. */
  description?: string;
  /** Tasks (objects or names) that must be up to date first. */
  deps?: ReadonlyArray<TaskRef | string>;
  /** Files, folders or globs relative to the Taskfile's folder; their contents are fingerprinted. */
  inputs?: readonly string[];
  /** Plain data the task depends on; fingerprinted and shown by `--explain`. */
  values?: Record<string, Value>;
  /** Files or folders the task produces. Files are checked by digest, folders by existence. */
  outputs?: readonly string[];
  /** Probe of live system state; false means the task is out of date. */
  check?: (ctx: TaskContext) => boolean | Promise<boolean>;
  /** Run on every invocation. */
  always?: boolean;
  /** Milliseconds after which the task's commands are stopped and it fails. */
  timeout?: number;
  /**
   * A pool made by `pool(name, depth)`: at most `depth` tasks of the pool run at once, whatever
   * -j is (ninja's pools). Or `'console'` (ninja's console pool, depth 1): the task talks to the
   * user at the terminal (a status report, an interactive shell). When it is among the tasks of a
   * build, the display is plain lines, never the live one; its log lines and commands' output are
   * printed as they come, without -v; its commands may take `stdio: 'inherit'`.
   */
  pool?: 'console' | Pool;
  /**
   * Commands to run, each an argv (no shell): `['cc', '-c', 'a.c']`, or a list of them run in
   * order, before `run`. They run in the Taskfile's folder as `ctx.exec` runs them, and their
   * command lines are part of the fingerprint: a changed flag reruns the task.
   */
  command?: readonly string[] | ReadonlyArray<readonly string[]>;
  /**
   * Whether the task's outputs may be stored in, and restored from, the local and remote cache
   * under its action key (a digest of everything its fingerprint holds). Default: true for a task
   * with `command` and no `run`, false for a `run` task (whose effects the engine cannot see:
   * `true` promises that its declared outputs are all it makes). A task with a `check` is never
   * cached.
   */
  cache?: boolean;
  /**
   * A Makefile-style dependency file the task's command writes (`cc -MMD -MF obj/a.o.d`), relative
   * to the root. After a successful run the files it names (relative to the root, where commands
   * run) are recorded as inputs of the task in the state store, and the file is removed, as
   * ninja's `deps = gcc` does: editing one of them reruns the task.
   */
  depfile?: string;
  /** The work. A task without `run` or `command` is a group. */
  run?: (ctx: TaskContext) => unknown | Promise<unknown>;
  /**
   * The task's own teardown, for what its run makes outside its declared outputs (a running
   * container, a mount). `--clean` runs it, with the same context as `run`, before it removes the
   * outputs of this task or of anything this task depends on: dependents are torn down before
   * their dependencies, as a container is stopped before its root folder goes. It runs whether or
   * not the task has a record (a run interrupted half way leaves none), so it must do nothing when
   * there is nothing to tear down. It is not part of the fingerprint. If it fails, `--clean` stops
   * there (exit 1) and removes nothing further.
   */
  clean?: (ctx: TaskContext) => unknown | Promise<unknown>;
}
