// The public API a Taskfile imports: `task`, `param` and their types.
import { registry } from './registry.ts';
import type { TaskRef, TaskSpec } from './types.ts';

export { param } from './params.ts';
export { TaskFailure } from './errors.ts';
export type { ExecOptions, ExecResult, TaskContext, TaskRef, TaskSpec, Value } from './types.ts';

/** Declares a task. Returns a reference usable in other tasks' `deps` and as the default export. */
export function task(name: string, spec: TaskSpec = {}): TaskRef {
  const reg = registry();
  const declaredAt = callerLocation();
  if (reg.tasks.has(name)) {
    const first = reg.tasks.get(name)?.declaredAt;
    reg.errors.push(`task '${name}' is declared twice${first ? ` (first at ${first}` : ''}${declaredAt ? `, again at ${declaredAt})` : first ? ')' : ''}`);
  }
  reg.tasks.set(name, { name, spec, declaredAt });
  return { name };
}

/** `file:line` of the code that called `task()`, from the stack. */
function callerLocation(): string | undefined {
  const lines = new Error().stack?.split('\n') ?? [];
  const frame = lines[3];
  const match = frame?.match(/\(?([^\s()]+):(\d+):\d+\)?\s*$/);
  return match ? `${match[1]}:${match[2]}` : undefined;
}
