// The cache a build uses: the local folder (always, unless the mode is off) and the remote URL
// (when given), as settings.ts resolved them.
import type { Graph } from '../graph/graph.ts';
import type { TaskRecord } from '../state/state.ts';
import { LocalCache } from './local-cache.ts';
import { RemoteCache } from './remote-cache.ts';
import type { ResolvedCache } from './settings.ts';
import { TaskCache } from './task-cache.ts';

/** The build's cache, or undefined when it is off or its folder cannot be made (a warning says so). */
export function openCache(resolved: ResolvedCache, build: { graph: Graph; recordOf(task: string): TaskRecord | undefined; warn(message: string): void; env: NodeJS.ProcessEnv }): TaskCache | undefined {
  if (resolved.mode === 'off') return undefined;
  let local: LocalCache;
  try {
    local = new LocalCache(resolved.dir, resolved.sizeLimit);
  } catch (error) {
    build.warn(`cannot use the local cache ${resolved.dir} (${(error as Error).message}); building without a cache`);
    return undefined;
  }
  const remote = resolved.url ? new RemoteCache({ url: resolved.url, mode: resolved.mode, env: build.env, timeoutMs: resolved.timeoutMs, warn: build.warn }) : undefined;
  return new TaskCache({ graph: build.graph, local, remote, recordOf: build.recordOf, warn: build.warn });
}
