// A real cache server for tests: Debian's nginx (nginx-light, whose WebDAV module takes PUT) on a
// free loopback port, with its own configuration, store and logs under a temporary folder, and
// stopped by its pid. It serves Bazel's HTTP cache protocol as a plain file store: GET, HEAD and
// PUT of /ac/KEY and /cas/SHA256.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface CacheServer {
  url: string;
  /** Where the server keeps what it is sent: `ac/` and `cas/` under it. */
  store: string;
  pid: number;
  stop(): Promise<void>;
}

/** nginx, when installed (the project's setup installs nginx-light). */
export const nginxInstalled = spawnSync('nginx', ['-v']).status === 0;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts nginx in the foreground as one process (no master, no workers to find), so that its pid
 * is the child's. `limitRate`: bytes a second per response (a slow server); `basicAuth`: a user
 * and password it asks for.
 */
export async function startCacheServer(options: { limitRate?: string; basicAuth?: { user: string; password: string } } = {}): Promise<CacheServer> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'task-nginx-'));
  const store = path.join(prefix, 'store');
  fs.mkdirSync(store);
  fs.mkdirSync(path.join(prefix, 'temp'));
  const port = await freePort();
  const auth = options.basicAuth
    ? `auth_basic "cache"; auth_basic_user_file ${path.join(prefix, 'users')};`
    : '';
  if (options.basicAuth) fs.writeFileSync(path.join(prefix, 'users'), `${options.basicAuth.user}:{PLAIN}${options.basicAuth.password}\n`);
  const temp = path.join(prefix, 'temp');
  fs.writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log ${path.join(prefix, 'access.log')};
  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy; fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${store};
    client_max_body_size 0;
    location / {
      ${auth}
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      ${options.limitRate ? `limit_rate ${options.limitRate};` : ''}
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`${url}/`, { method: 'HEAD' }).then(() => true, () => false);
    if (up) break;
    if (child.exitCode !== null || Date.now() > until) {
      const log = fs.readFileSync(path.join(prefix, 'error.log'), 'utf8');
      throw new Error(`nginx did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  const pid = child.pid!;
  return {
    url,
    store,
    pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
