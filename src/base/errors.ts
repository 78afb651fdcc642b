// Typed errors. Each says which exit status it maps to; the CLI catches them once.
import path from 'node:path';

/** Base class: an error the user caused or must act on, printed without a stack trace. */
export class TaskError extends Error {
  /** Process exit status the CLI uses for this error. */
  readonly exitStatus: number = 1;
}

/** Bad command line: unknown option, target or parameter; a bad parameter value. Exit 2. */
export class UsageError extends TaskError {
  override readonly exitStatus = 2;
}

/** The Taskfile is wrong: it throws, does not parse, or declares an impossible graph. Exit 2. */
export class TaskfileError extends TaskError {
  override readonly exitStatus = 2;
}

/** One or more tasks failed, or `--question` found work. Exit 1. */
export class BuildFailed extends TaskError {
  override readonly exitStatus = 1;
}

/** SIGINT or SIGTERM stopped the build. Exit 130. */
export class Interrupted extends TaskError {
  override readonly exitStatus = 130;
}

/** Another run holds the lock on the state folder, or the state folder cannot be written. Exit 1. */
export class StateError extends TaskError {
  override readonly exitStatus = 1;
}

/**
 * A file or folder the engine must stat, read or remove cannot be (no permission, a full disk, an
 * I/O error): the message names the path and the system's reason, on one line. Exit 1.
 */
export class FileError extends TaskError {}

/**
 * "cannot stat /x: permission denied (EACCES)" for an error from the operating system (node:fs,
 * a spawn), or undefined for any other error.
 */
export function describeSystemError(error: unknown): string | undefined {
  const { code, syscall, path: file, message } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code) || typeof message !== 'string') return undefined;
  // Node's message: "EACCES: permission denied, stat '/x'"; the middle part is the reason.
  const reason = message.match(/^E[A-Z0-9]+: (.*?)(?:, \w+(?: '.*')?)?$/s)?.[1] ?? message;
  const what = syscall ? `cannot ${syscall}${file ? ` ${file}` : ''}` : file ? `cannot use ${file}` : 'system error';
  return `${what}: ${reason} (${code})`;
}

/** The FileError an error from the operating system about `file` becomes; any other error as it is. */
export function asFileError(error: unknown): unknown {
  const described = describeSystemError(error);
  return described === undefined ? error : new FileError(described);
}

/**
 * Where an error that is not one of ours was thrown, as "file:line": the first stack frame outside
 * the engine and node_modules (a Taskfile's `run`, a recipe module), relative to `from`.
 */
export function thrownAt(error: unknown, from: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // The engine runs from src/ or from its bundle in dist/.
  const engineRoot = path.dirname(path.dirname(new URL(import.meta.url).pathname));
  const inEngine = (file: string) => file.startsWith(`${engineRoot}/src/`) || file.startsWith(`${engineRoot}/dist/`);
  for (const line of error.stack?.split('\n').slice(1) ?? []) {
    // "at run (/p/Taskfile.ts:3:9)", "at /p/x.ts:3:9", or a module's "file:///p/x.js:3:9".
    const match = line.match(/(?:\(|\s)(?:file:\/\/)?((?:\/|[A-Za-z]:\\)[^\s()]+):(\d+):(\d+)\)?$/);
    if (!match) continue;
    const [, where, row] = match;
    if (!where || where.includes('node_modules') || inEngine(where)) continue;
    const shown = path.relative(from, where);
    return `${shown && !shown.startsWith('..') ? shown : where}:${row}`;
  }
  return undefined;
}

/** A task failed for a reason of its own: a declared input is missing, an output was not created. */
export class TaskFailure extends TaskError {}

/** A declared input is missing, and another task declares it as its output. */
export class InputNotBuiltYet extends TaskFailure {
  constructor(message: string, readonly file: string, readonly producer: string) {
    super(message);
  }
}

/** A command run by a task exited non-zero, was killed, or could not start. */
export class CommandFailed extends TaskError {
  constructor(
    message: string,
    /** The command line, for the failure report. */
    readonly command: string,
    /** Last lines of the command's output. */
    readonly tail: string[],
    /** Where the task's full log is. */
    readonly logPath: string,
    /** The command's exit code, when it exited with one. */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}
