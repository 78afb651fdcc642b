// The public API a Taskfile imports: `task`, `param`, `pool` and their types.
import { registry } from './taskfile/registry.ts';
import type { TaskRef, TaskSpec } from './taskfile/types.ts';
import { cProgram as declareCProgram, eachFile as declareEachFile, type CProgramOptions, type SourceFile } from './taskfile/generators.ts';

export { codeInputs } from './taskfile/code-inputs.ts';
export { param } from './taskfile/params.ts';
export { pool, type Pool } from './taskfile/pool.ts';
export { TaskFailure } from './base/errors.ts';
export { matchFiles } from './taskfile/generators.ts';
export type { CProgramOptions, SourceFile } from './taskfile/generators.ts';
export type { ExecOptions, ExecResult, TaskContext, TaskRef, TaskSpec, Value } from './taskfile/types.ts';

/** Declares a task. Returns a reference usable in other tasks' `deps` and as the default export. */
export function task(name: string, spec: TaskSpec = {}): TaskRef {
  const reg = registry();
  if (reg.tasks.has(name)) {
    // Only the second declaration's place: capturing every call's place costs a 10,000-task
    // Taskfile about 0.05 s and 15 MB on each run.
    const again = callerOfTask();
    reg.errors.push(`task '${name}' is declared twice${again ? ` (again at ${again})` : ''}`);
  }
  reg.tasks.set(name, { name, spec });
  return { name };
}

/** `file:line` of the code that called `task()`. */
function callerOfTask(): string | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, task);
  const frame = holder.stack?.split('\n')[1];
  const match = frame?.match(/\(?([^\s()]+):(\d+):\d+\)?\s*$/);
  return match ? `${match[1]}:${match[2]}` : undefined;
}

/**
 * One task per file the glob(s) match, relative to the Taskfile's folder, sorted: `make` gives
 * each its name and spec. A pattern that matches nothing is a Taskfile error.
 */
export function eachFile(patterns: string | readonly string[], make: (file: SourceFile) => TaskSpec & { name: string }): TaskRef[] {
  return declareEachFile(task, patterns, make);
}

/**
 * A C or C++ program: a compile task per source (`NAME:src:a.o`), each with its depfile so that
 * header edits rebuild exactly the objects that include them, and the link task `NAME`.
 */
export function cProgram(name: string, options: CProgramOptions): { link: TaskRef; objects: TaskRef[] } {
  return declareCProgram(task, name, options);
}
