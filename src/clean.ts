// `--clean`: removes what the state store recorded as outputs, then the records.
import path from 'node:path';
import type { Disk } from './disk.ts';
import type { StateStore } from './state.ts';

/** Removes the recorded outputs and records of the named tasks (all recorded ones if none). Returns lines to print. */
export function clean(store: StateStore, tasks: readonly string[], root: string, disk: Disk): string[] {
  const lines: string[] = [];
  const names = tasks.length > 0 ? tasks : [...store.tasks.keys()];
  for (const name of names) {
    const record = store.get(name);
    if (!record) continue;
    for (const out of record.outputs.keys()) {
      // Only what a run of ours created and recorded; never the root or a parent of it.
      if (!path.relative(out, root).startsWith('..')) continue;
      disk.remove(out);
      lines.push(`removed ${path.relative(root, out) || out}`);
    }
    store.delete(name);
    lines.push(`forgot ${name}`);
  }
  return lines;
}
