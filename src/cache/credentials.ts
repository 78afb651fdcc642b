// Credentials for the remote cache, from the environment or a netrc file, never from the command
// line (where `ps` shows them) and never printed: messages name the cache by `shownUrl`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The URL without user and password, for messages. */
export function shownUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href.replace(/\/$/, '');
}

/**
 * The Authorization header for a cache URL: TASK_CACHE_TOKEN (a bearer token), else
 * TASK_CACHE_USER and TASK_CACHE_PASSWORD, else a user and password in the URL itself (from
 * TASK_CACHE_URL), else the URL's host in $NETRC or ~/.netrc; none: no header.
 */
export function authorization(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (env.TASK_CACHE_TOKEN) return `Bearer ${env.TASK_CACHE_TOKEN}`;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  if (env.TASK_CACHE_USER) return basic(env.TASK_CACHE_USER, env.TASK_CACHE_PASSWORD ?? '');
  if (url.username) return basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
  const entry = netrcEntry(url.hostname, env.NETRC ?? path.join(os.homedir(), '.netrc'));
  return entry ? basic(entry.login, entry.password) : undefined;
}

/** The `machine HOST` entry of a netrc file (or its `default`), as curl reads it. */
export function netrcEntry(host: string, file: string): { login: string; password: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const tokens = text.replace(/^#.*$/gm, '').split(/\s+/).filter(Boolean);
  let found: { login: string; password: string } | undefined;
  let fallback: typeof found;
  let current: { login: string; password: string } | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === 'machine' || token === 'default') {
      current = { login: '', password: '' };
      if (token === 'default') fallback = current;
      else if (tokens[++i] === host && !found) found = current;
    } else if (token === 'macdef') {
      break;
    } else if (current && (token === 'login' || token === 'password')) {
      current[token] = tokens[++i] ?? '';
    }
  }
  return found ?? fallback;
}
