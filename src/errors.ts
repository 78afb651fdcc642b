// Typed errors. Each says which exit status it maps to; the CLI catches them once.

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
  ) {
    super(message);
  }
}
