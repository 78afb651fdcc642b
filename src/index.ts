// The public API a Taskfile imports: `task`, `param` and their types.
import { registry } from './registry.ts';
import type { TaskRef, TaskSpec } from './types.ts';

export { param } from './params.ts';
export { TaskFailure } from './errors.ts';
export type { ExecOptions, ExecResult, TaskContext, TaskRef, TaskSpec, Value } from './types.ts';

/** Declares a task. Returns a reference usable in other tasks' `deps` and as the default export. */
export function task(name: string, spec: TaskSpec = {}): TaskRef {
  const reg = registry();
  const site = callSite();
  if (reg.tasks.has(name)) {
    const first = reg.tasks.get(name)?.declaredAt;
    const again = location(site);
    reg.errors.push(`task '${name}' is declared twice${first ? ` (first at ${first}` : ''}${again ? `, again at ${again})` : first ? ')' : ''}`);
  }
  reg.tasks.set(name, {
    name,
    spec,
    // Formatted only when a message needs it: a stack per task() is costly in a 10,000-task Taskfile.
    get declaredAt() {
      return location(site);
    },
  });
  return { name };
}

/** The caller of `task()`, captured cheaply (a short, unformatted stack). */
function callSite(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 3;
  const site = new Error();
  Error.stackTraceLimit = limit;
  return site;
}

/** `file:line` of the code that called `task()`. */
function location(site: Error): string | undefined {
  const frame = site.stack?.split('\n')[3];
  const match = frame?.match(/\(?([^\s()]+):(\d+):\d+\)?\s*$/);
  return match ? `${match[1]}:${match[2]}` : undefined;
}
