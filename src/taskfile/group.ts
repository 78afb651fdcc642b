// Which tasks are groups: a name for a set of tasks (`all`), with no work of its own.
import type { TaskSpec } from './types.ts';

/**
 * A group does nothing of its own: no run, command, check, values, inputs or outputs. It passes
 * its dependencies' results on and is never itself work to do, so the counts (`[3/5]`, "4 up to
 * date") and `-q` leave it out, as make leaves out a phony target with no recipe.
 */
export function isGroup(spec: TaskSpec): boolean {
  const none = (list: readonly unknown[] | undefined) => list === undefined || list.length === 0;
  return !spec.run && none(spec.command) && !spec.check && !spec.always && !spec.values && none(spec.outputs) && none(spec.inputs);
}
