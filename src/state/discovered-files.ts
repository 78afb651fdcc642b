// The inputs the tasks' last runs discovered (a depfile's headers, `ctx.discovered`), read from
// their records: `--watch` watches them as it watches declared inputs.
import path from 'node:path';
import { loadState } from './state.ts';

/**
 * The discovered inputs of `tasks`' records, absolute. A store that cannot be read names none:
 * the next build reports it.
 */
export function discoveredFiles(stateDir: string, root: string, tasks: readonly string[]): string[] {
  let store;
  try {
    store = loadState(stateDir, { journal: false });
  } catch {
    return [];
  }
  const files = new Set<string>();
  for (const task of tasks) {
    for (const key of store.get(task)?.parts.discovered?.keys() ?? []) files.add(path.resolve(root, key));
  }
  return [...files];
}
