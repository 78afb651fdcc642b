// The cache's settings, from the command line and the environment, checked before anything is
// locked or run. Light on purpose: the CLI reads them on every build, the cache itself loads
// only when a task has to be decided.
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../base/errors.ts';

export type CacheMode = 'readwrite' | 'read' | 'off';
export const cacheModes: readonly CacheMode[] = ['readwrite', 'read', 'off'];

/** Where the local cache lives: TASK_CACHE_DIR, else XDG_CACHE_HOME/task, else ~/.cache/task. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.TASK_CACHE_DIR) return path.resolve(env.TASK_CACHE_DIR);
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'task');
}

/** `10G`, `500M`, `2048K` or plain bytes; undefined when it is none of those. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!match) return undefined;
  const scale = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.floor(Number(match[1]) * scale);
}

export const defaultSizeLimit = 10 * 2 ** 30;

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
    const named = settings.url !== undefined ? '--cache-url' : 'TASK_CACHE_URL';
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`${named} is not an http:// or https:// URL`);
    // Paths are appended to it (URL/cas/DIGEST): a query would be cut off, and a token in one printed.
    if (url.search || url.hash) throw new UsageError(`${named} must not have a query or fragment: give a token in TASK_CACHE_TOKEN`);
    // A command line is seen by every user of the machine (ps, /proc/PID/cmdline).
    if (settings.url !== undefined && (url.username || url.password)) {
      throw new UsageError('--cache-url must not hold a user or password (ps shows a command line to every user): give them in TASK_CACHE_USER and TASK_CACHE_PASSWORD, TASK_CACHE_URL or ~/.netrc');
    }
  }
  const sizeText = env.TASK_CACHE_SIZE;
  const sizeLimit = sizeText ? parseSize(sizeText) : defaultSizeLimit;
  if (sizeLimit === undefined) throw new UsageError(`TASK_CACHE_SIZE: '${sizeText}' is not a size such as 10G or 500M`);
  const timeoutMs = env.TASK_CACHE_TIMEOUT ? Number(env.TASK_CACHE_TIMEOUT) : 10_000;
  if (!(timeoutMs > 0)) throw new UsageError(`TASK_CACHE_TIMEOUT: '${env.TASK_CACHE_TIMEOUT}' is not a number of milliseconds`);
  const dir = settings.dir !== undefined ? path.resolve(settings.dir) : defaultCacheDir(env);
  return { mode: modeText as CacheMode, dir, sizeLimit, url, timeoutMs };
}

