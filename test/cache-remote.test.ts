// The remote cache against a real server: nginx with WebDAV on a loopback port, speaking
// Bazel's HTTP cache protocol. One folder's build fills it; a fresh copy of the project with an
// empty local cache restores from it; a corrupt blob, a server that stops mid-build, a wrong
// password and an interrupted restore each cost a warning or a rerun, never a wrong output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { finished, Project, projectMaker } from './helpers/cli-rig.ts';
import { nginxInstalled, startCacheServer, type CacheServer } from './helpers/nginx.ts';

const project = projectMaker(after);
const servers: CacheServer[] = [];
after(async () => {
  for (const server of servers) await server.stop();
});
const skip = !nginxInstalled && !process.env.CI ? 'nginx is not installed (the setup installs nginx-light)' : false;

async function server(options?: Parameters<typeof startCacheServer>[0]): Promise<CacheServer> {
  const started = await startCacheServer(options);
  servers.push(started);
  return started;
}

// A command task (a file) and a run task that opts in (a folder with modes, links and a fifo).
const taskfile = `
const gen = task('gen', { inputs: ['src.txt'], outputs: ['out/gen.txt'], command: ['sh', '-c', 'echo gen >> runs.txt; cat src.txt src.txt > out/gen.txt'] });
export default task('tree', {
  deps: [gen], inputs: ['out/gen.txt'], outputs: ['out/tree'], cache: true,
  run: (ctx) => ctx.exec('sh', ['-c', 'echo tree >> runs.txt && rm -rf out/tree && mkdir -p out/tree/sub && cp out/gen.txt out/tree/ && ln -s gen.txt out/tree/link && ln out/tree/gen.txt out/tree/hard && chmod 750 out/tree/sub && chmod 755 out/tree/gen.txt && mkfifo out/tree/fifo']),
});
`;

function describeTree(dir: string): string[] {
  const script = `cd "$1" && find . -printf '%p %y %m %U:%G %s %l %n\\n' | sort && find . -type f -exec sha256sum {} + | sort`;
  return execFileSync('sh', ['-c', script, 'sh', dir], { encoding: 'utf8' }).trim().split('\n');
}

function copyOf(p: Project, url: string): Project {
  const q = project('');
  for (const file of ['Taskfile.ts', 'src.txt']) if (p.exists(file)) fs.copyFileSync(p.path(file), q.path(file));
  q.env = { TASK_CACHE_URL: url };
  return q;
}

test('a fresh copy elsewhere, with an empty local cache, restores everything from the remote cache, byte-identical, running nothing', { skip }, async () => {
  const cache = await server();
  const p = project(taskfile);
  p.write('src.txt', 'hello\n');
  p.env = { TASK_CACHE_URL: cache.url };
  const first = await p.run();
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.deepEqual(Project.ran(first), ['gen', 'tree']);
  assert.match(first.stderr, /^task: cache: 0 local hits, 0 remote hits, 2 misses, [\d.]+ \w*B uploaded/m);
  assert.equal(fs.readdirSync(path.join(cache.store, 'ac')).length, 2);

  const q = copyOf(p, cache.url);
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.deepEqual(Project.ran(second), []);
  assert.doesNotMatch(second.stderr, /warning/, 'stderr holds the summary only');
  assert.match(second.stdout, /^gen: restoring from the remote cache/m);
  assert.match(second.stdout, /tree: restored from the remote cache in/);
  assert.match(second.stderr, /^task: cache: 0 local hits, 2 remote hits, 0 misses, [\d.]+ \w*B downloaded/m);
  assert.equal(fs.existsSync(q.path('runs.txt')), false);
  assert.equal(q.read('out/gen.txt'), p.read('out/gen.txt'));
  assert.deepEqual(describeTree(q.path('out/tree')), describeTree(p.path('out/tree')));

  // What came from the remote is in the local cache now: with the server gone, it restores again.
  await cache.stop();
  fs.rmSync(q.path('out'), { recursive: true });
  const third = await q.run();
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /^task: cache: 2 local hits, 0 remote hits, 0 misses/m);
  assert.equal(fs.existsSync(q.path('runs.txt')), false);
});

/** A server filled by a first build of the two-task Taskfile, and that build's project. */
async function filledServer(): Promise<{ cache: CacheServer; p: Project }> {
  const cache = await server();
  const p = project(taskfile);
  p.write('src.txt', 'hello\n');
  p.env = { TASK_CACHE_URL: cache.url };
  assert.equal((await p.run()).code, 0);
  return { cache, p };
}

test('a corrupt blob on the server is detected, said once, and the task is rebuilt', { skip }, async () => {
  const { cache, p } = await filledServer();
  // Every blob the server holds, same size, other bytes.
  const cas = path.join(cache.store, 'cas');
  for (const blob of fs.readdirSync(cas)) {
    const file = path.join(cas, blob);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    fs.writeFileSync(file, bytes);
  }
  const q = copyOf(p, cache.url);
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stderr.match(/warning: task 'gen': blob [0-9a-f]{12} is corrupt/g)?.length, 1, second.stderr);
  assert.equal(q.read('runs.txt'), 'gen\ntree\n');
  assert.equal(q.read('out/gen.txt'), 'hello\nhello\n');
  assert.deepEqual(describeTree(q.path('out/tree')), describeTree(p.path('out/tree')));
});

test('a folder is unpacked as it downloads: a corrupt one is found at its end, kept nowhere, and rebuilt', { skip }, async () => {
  const { cache, p } = await filledServer();
  // The folder's archive only (the largest blob), one byte changed in its middle.
  const cas = path.join(cache.store, 'cas');
  const [tree] = fs.readdirSync(cas).map((blob) => path.join(cas, blob)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  const bytes = fs.readFileSync(tree!);
  bytes.writeUInt8(bytes.readUInt8(700) ^ 0xff, 700);
  fs.writeFileSync(tree!, bytes);
  const q = copyOf(p, cache.url);
  const localCache = q.path('local-cache');
  q.env = { ...q.env, TASK_CACHE_DIR: localCache };
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stderr.match(/warning: task 'tree': blob [0-9a-f]{12} is corrupt/g)?.length, 1, second.stderr);
  assert.equal(q.read('runs.txt'), 'tree\n', 'gen came from the cache, tree was rebuilt');
  assert.deepEqual(describeTree(q.path('out/tree')), describeTree(p.path('out/tree')));
  // Nothing half-unpacked beside the output; the local cache holds gen's file, and the tree
  // as rebuilt, never the corrupt download (nor a part of it).
  assert.deepEqual(fs.readdirSync(q.path('out')).sort(), ['gen.txt', 'tree']);
  assert.ok(!fs.readdirSync(path.join(localCache, 'cas')).includes(path.basename(tree!)), 'the corrupt blob is not in the local cache');
  assert.deepEqual(fs.readdirSync(path.join(localCache, 'cas')).filter((name) => name.startsWith('.')), []);
});

test('a server stopped mid-build costs one warning; the build finishes locally', { skip }, async () => {
  const cache = await server();
  const p = project(`
const first = task('first', { outputs: ['a.txt'], command: ['sh', '-c', 'kill "$NGINX_PID"; while kill -0 "$NGINX_PID" 2>/dev/null; do sleep 0.05; done; echo a > a.txt'] });
const second = task('second', { deps: [first], inputs: ['a.txt'], outputs: ['b.txt'], command: ['sh', '-c', 'cat a.txt a.txt > b.txt'] });
export default task('third', { deps: [second], inputs: ['b.txt'], outputs: ['c.txt'], command: ['sh', '-c', 'cat b.txt b.txt > c.txt'] });
`);
  p.env = { TASK_CACHE_URL: cache.url, NGINX_PID: String(cache.pid) };
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['first', 'second', 'third']);
  const warnings = result.stderr.trim().split('\n').filter((line) => line.startsWith('task: warning'));
  assert.equal(warnings.length, 1, result.stderr);
  assert.match(warnings[0]!, new RegExp(`^task: warning: the remote cache ${cache.url} cannot be used \\(ECONNREFUSED\\); going on with the local cache only$`));
  assert.equal(p.read('c.txt'), 'a\na\na\na\n');
});

test('credentials come from the environment and are never printed; a server that refuses them is one warning', { skip }, async () => {
  const password = 'pa55-w0rd-secret';
  const cache = await server({ basicAuth: { user: 'ci', password } });
  const p = project(`export default task('gen', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });`);
  p.env = { TASK_CACHE_URL: cache.url, TASK_CACHE_USER: 'ci', TASK_CACHE_PASSWORD: password };
  const written = await p.run('-v');
  assert.equal(written.code, 0, written.stderr);
  assert.doesNotMatch(written.stderr, /warning/, 'stderr holds the summary only');
  assert.equal(fs.readdirSync(path.join(cache.store, 'ac')).length, 1);
  const q = project(`export default task('gen', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });`);
  // A password in the URL works too, and is not shown.
  q.env = { TASK_CACHE_URL: cache.url.replace('http://', `http://ci:${password}@`) };
  const restored = await q.run('-v', '--explain');
  assert.match(restored.stdout, /cache: would be restored from the remote cache/);
  const read = await q.run('-v', '--cache-mode=read');
  assert.match(read.stdout, /gen: restored from the remote cache/);
  for (const output of [written.stdout, restored.stdout, restored.stderr, read.stdout, read.stderr]) assert.equal(output.includes(password), false);
  const r = project(`export default task('gen', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });`);
  r.env = { TASK_CACHE_URL: cache.url };
  const refused = await r.run();
  assert.equal(refused.code, 0);
  assert.deepEqual(Project.ran(refused), ['gen']);
  assert.deepEqual(refused.stderr.split('\n').filter((line) => line.includes('warning')), [`task: warning: the remote cache ${cache.url} cannot be used (HTTP 401 for GET ac/…); going on with the local cache only`]);
});

test('an interrupted restore leaves no half output and is not recorded', { skip }, async () => {
  const cache = await server({ limitRate: '1m' });
  const p = project(`export default task('big', { outputs: ['out/big'], cache: true, run: (ctx) => ctx.exec('sh', ['-c', 'mkdir -p out/big && head -c 8000000 /dev/urandom > out/big/data']) });`);
  p.env = { TASK_CACHE_URL: cache.url };
  assert.equal((await p.run()).code, 0);
  const q = copyOf(p, cache.url);
  const child = q.spawn([]);
  let stdout = '';
  let interrupted = false;
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!interrupted && stdout.includes('big: restoring from the remote cache')) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const result = await finished(child);
  assert.equal(result.code, 130, result.stdout + result.stderr);
  assert.match(stdout, /big: interrupted/);
  assert.deepEqual(fs.readdirSync(q.dir).filter((f) => f !== 'Taskfile.ts' && f !== '.task'), [], 'no output, whole or half');
  assert.deepEqual(fs.readdirSync(path.join(q.cacheDir, 'cas')), [], 'no partial blob in the local cache');
  const question = await q.run('-q');
  assert.equal(question.code, 1, 'the task is not recorded as done');
});

test('a server that never answers costs one warning after TASK_CACHE_TIMEOUT; the build goes on', async () => {
  // Accepts connections and says nothing: a hung cache server.
  const sockets = new Set<import('node:net').Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const url = `http://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}`;
  const p = project(`
const a = task('a', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });
export default task('b', { deps: [a], inputs: ['a.txt'], outputs: ['b.txt'], command: ['sh', '-c', 'cat a.txt > b.txt'] });
`);
  p.env = { TASK_CACHE_URL: url, TASK_CACHE_TIMEOUT: '500' };
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['a', 'b']);
  // One warning (the summary follows it on stderr).
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('task: warning'));
  assert.deepEqual(warnings, [`task: warning: the remote cache ${url} cannot be used (no answer within 500 ms); going on with the local cache only`]);
});

test('a server that sends the headers of an action result and then stalls costs one warning; the build goes on', async () => {
  // Answers every request with a 200 and a body it never sends: a stalled proxy.
  const sockets = new Set<import('node:net').Socket>();
  const stalling = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{'));
  });
  await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    stalling.close();
  });
  const url = `http://127.0.0.1:${(stalling.address() as import('node:net').AddressInfo).port}`;
  const p = project(`export default task('a', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });`);
  p.env = { TASK_CACHE_URL: url, TASK_CACHE_TIMEOUT: '500' };
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['a']);
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('task: warning'));
  assert.deepEqual(warnings, [`task: warning: the remote cache ${url} cannot be used (no answer within 500 ms); going on with the local cache only`]);
});
