// The cache a build uses, from the command line and the environment: the local folder (always,
// unless the mode is off) and the remote URL (when given).
import { UsageError } from '../base/errors.ts';
import type { Graph } from '../graph/graph.ts';
import type { TaskRecord } from '../state/state.ts';
import { defaultCacheDir, defaultSizeLimit, LocalCache, parseSize } from './local-cache.ts';
import { cacheModes, RemoteCache, type CacheMode } from './remote-cache.ts';
import { TaskCache } from './task-cache.ts';
import path from 'node:path';

export interface CacheSettings {
  /** --cache-url, --cache-mode and --cache-dir as given (each overrides its variable). */
  url?: string;
  mode?: string;
  dir?: string;
  env: NodeJS.ProcessEnv;
}

export interface ResolvedCache {
  mode: CacheMode;
  dir: string;
  sizeLimit: number;
  url?: URL;
  timeoutMs: number;
}

/** Checks the settings before anything is locked or run: a bad one is a usage error (exit 2). */
export function resolveCache(settings: CacheSettings): ResolvedCache {
  const { env } = settings;
  const modeText = settings.mode ?? (env.TASK_CACHE_MODE || 'readwrite');
  if (!(cacheModes as readonly string[]).includes(modeText)) throw new UsageError(`TASK_CACHE_MODE: '${modeText}' is not one of ${cacheModes.join(', ')}`);
  const urlText = settings.url ?? (env.TASK_CACHE_URL || undefined);
  let url: URL | undefined;
  if (urlText !== undefined) {
    try {
      url = new URL(urlText);
    } catch {
      url = undefined;
    }
    // The text itself is not repeated: it may hold a password.
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`${settings.url !== undefined ? '--cache-url' : 'TASK_CACHE_URL'} is not an http:// or https:// URL`);
  }
  const sizeText = env.TASK_CACHE_SIZE;
  const sizeLimit = sizeText ? parseSize(sizeText) : defaultSizeLimit;
  if (sizeLimit === undefined) throw new UsageError(`TASK_CACHE_SIZE: '${sizeText}' is not a size such as 10G or 500M`);
  const timeoutMs = env.TASK_CACHE_TIMEOUT ? Number(env.TASK_CACHE_TIMEOUT) : 10_000;
  if (!(timeoutMs > 0)) throw new UsageError(`TASK_CACHE_TIMEOUT: '${env.TASK_CACHE_TIMEOUT}' is not a number of milliseconds`);
  const dir = settings.dir !== undefined ? path.resolve(settings.dir) : defaultCacheDir(env);
  return { mode: modeText as CacheMode, dir, sizeLimit, url, timeoutMs };
}

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
