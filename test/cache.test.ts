// The local cache, through the real CLI: a task whose action key is cached is restored, not
// run, in another folder as in the same one; folder outputs come back with their modes, owners
// and links; a corrupt blob is found and the task runs; the size limit evicts the oldest entries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LocalCache } from '../src/cache/local-cache.ts';
import { Project, projectMaker } from './helpers/cli-rig.ts';
import { Readable } from 'node:stream';

const project = projectMaker(after);

// `gen` is a declared command (cached by default); `tree` a run task that opts in, making a
// folder with a subfolder of mode 0750, a symlink, a hard link, a fifo, a file owned by another
// uid and a file capability. Each run appends a line to runs.txt, which no cache restores.
const taskfile = `
const v = param('v', 'one', 'a value');
const gen = task('gen', {
  inputs: ['src.txt'], outputs: ['out/gen.txt'], values: { v },
  command: ['sh', '-c', 'echo gen >> runs.txt; cat src.txt > out/gen.txt; echo "$0" >> out/gen.txt', v],
});
const tree = task('tree', {
  deps: [gen], inputs: ['out/gen.txt'], outputs: ['out/tree'], cache: true,
  run: (ctx) => ctx.exec('sh', ['-c', [
    'echo tree >> runs.txt', 'rm -rf out/tree', 'mkdir -p out/tree/sub', 'cp out/gen.txt out/tree/', 'ln -s gen.txt out/tree/link',
    'ln out/tree/gen.txt out/tree/hard', 'chmod 750 out/tree/sub', 'mkfifo out/tree/fifo', 'echo x > out/tree/owned', 'chown 4321:4322 out/tree/owned',
    'cp /bin/true out/tree/tool', 'setcap cap_net_bind_service+ep out/tree/tool', 'chmod 700 out/tree',
  ].join(' && ')]),
});
const probe = task('probe', { outputs: ['out/probe.txt'], check: () => false, command: ['sh', '-c', 'echo probe > out/probe.txt'] });
const plain = task('plain', { outputs: ['out/plain.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo plain > out/plain.txt']) });
const off = task('off', { outputs: ['out/off.txt'], cache: false, command: ['sh', '-c', 'echo off > out/off.txt'] });
export default task('all', { deps: [gen, tree, probe, plain, off] });
`;

const root = process.getuid?.() === 0;

/** Every entry under a folder: type, mode, owner, size, link target, inode sharing, contents digest. */
function describeTree(dir: string): string[] {
  const script = `cd "$1" && find . -printf '%p %y %m %U:%G %s %l %n\\n' | sort && find . -type f -exec sha256sum {} + | sort && getcap -r . | sort`;
  return execFileSync('sh', ['-c', script, 'sh', dir], { encoding: 'utf8' }).trim().split('\n');
}

/** A copy of the project's sources (Taskfile and inputs, no outputs or state) in a new folder. */
function copyOf(p: Project, files: string[]): Project {
  const q = project('');
  for (const file of files) fs.copyFileSync(p.path(file), q.path(file));
  return q;
}

test('a fresh copy of the project elsewhere restores every cacheable task from the cache, byte-identical, running nothing', { skip: !root && 'needs root (chown, setcap)' }, async () => {
  const p = project(taskfile);
  p.write('src.txt', 'hello\n');
  const first = await p.run();
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.deepEqual(Project.ran(first).sort(), ['gen', 'off', 'plain', 'probe', 'tree']);
  assert.match(first.stderr, /^task: cache: 0 local hits, 0 remote hits, 2 misses/m);

  const q = copyOf(p, ['Taskfile.ts', 'src.txt']);
  q.cacheDir = p.cacheDir;
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr + second.stdout);
  // Only the tasks that may not be cached ran: a check, a run task without cache: true, cache: false.
  assert.deepEqual(Project.ran(second).sort(), ['off', 'plain', 'probe']);
  assert.match(second.stdout, /^gen: restoring from the local cache \(/m);
  assert.match(second.stdout, /tree: restored from the local cache in/);
  // The group is not counted (issue 14).
  assert.match(second.stderr, /^task: 3 ran, 2 restored from the cache \(/m);
  assert.match(second.stderr, /^task: cache: 2 local hits, 0 remote hits, 0 misses/m);
  assert.equal(fs.existsSync(q.path('runs.txt')), false, 'no command of gen or tree ran in the copy');
  assert.equal(q.read('out/gen.txt'), p.read('out/gen.txt'));
  assert.deepEqual(describeTree(q.path('out/tree')), describeTree(p.path('out/tree')));
  // Restored outputs are up to date: the next build runs only what always runs (the check's task).
  const third = await q.run();
  assert.deepEqual(Project.ran(third), ['probe']);
});

test('switching a parameter back restores from the local cache; --explain says what the cache would do', async () => {
  const p = project(taskfile.replace(/'setcap[^']*', /, '').replace(/'chown[^']*', /, ''));
  p.write('src.txt', 'hello\n');
  assert.equal((await p.run('tree')).code, 0);
  const two = await p.run('tree', 'v=two');
  assert.deepEqual(Project.ran(two), ['gen', 'tree']);
  const explained = await p.run('--explain', 'tree', 'v=one');
  assert.match(explained.stdout, /gen: out of date: .*value v changed: "two" -> "one"\n {4}cache: would be restored from the local cache \(key [0-9a-f]{12}\)/);
  assert.match(explained.stdout, /tree: out of date: dependency gen will run\n {4}cache: its key is known once dependency gen has run/);
  const back = await p.run('tree', 'v=one');
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual(Project.ran(back), [], 'nothing ran');
  assert.match(back.stderr, /^task: 2 restored from the cache/m, back.stderr);
  assert.equal(p.read('runs.txt'), 'gen\ntree\ngen\ntree\n');
  assert.equal(p.read('out/gen.txt'), 'hello\none\n');
  const explainAll = await p.run('--explain', '-f', 'all');
  assert.match(explainAll.stdout, /probe: out of date: .*\n {4}not cached: it has a check of live state/);
  assert.match(explainAll.stdout, /plain: out of date: .*\n {4}not cached: a run task is cached only with cache: true/);
  assert.match(explainAll.stdout, /off: out of date: .*\n {4}not cached: it says cache: false/);
});

test('-f runs the task even when the cache holds its result, and --explain -f says the cache is not asked', async () => {
  const p = project(taskfile.replace(/'setcap[^']*', /, '').replace(/'chown[^']*', /, ''));
  p.write('src.txt', 'hello\n');
  assert.equal((await p.run('gen')).code, 0);
  assert.match((await p.run('--explain', '-f', 'gen')).stdout, /gen: out of date: forced \(-f\)\n {4}cache: not asked, -f runs it/);
  const forced = await p.run('-f', 'gen');
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(Project.ran(forced), ['gen']);
  assert.doesNotMatch(forced.stdout, /restor/);
  assert.equal(p.read('runs.txt'), 'gen\ngen\n', 'the command ran a second time');
});

test('a corrupt blob in the local cache is a miss, said once: the task runs and stores a good copy', async () => {
  const p = project(`export default task('gen', { outputs: ['a.txt', 'b.txt'], command: ['sh', '-c', 'echo run >> runs.txt; echo aaa > a.txt; echo bbb > b.txt'] });`);
  assert.equal((await p.run()).code, 0);
  const blobs = path.join(p.cacheDir, 'cas');
  for (const blob of fs.readdirSync(blobs)) {
    // Same size, other bytes: only the digest can tell.
    const file = path.join(blobs, blob);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').toUpperCase());
  }
  fs.rmSync(p.path('a.txt'));
  const again = await p.run();
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stderr.match(/warning: task 'gen': blob [0-9a-f]{12} is corrupt/g)?.length, 1, again.stderr);
  assert.equal(p.read('a.txt'), 'aaa\n');
  assert.equal(p.read('runs.txt'), 'run\nrun\n');
  // The run stored good blobs again: the next restore works.
  fs.rmSync(p.path('a.txt'));
  const third = await p.run();
  assert.match(third.stdout, /gen: restored from the local cache/);
  assert.equal(p.read('a.txt'), 'aaa\n');
});

test('--cache-mode=off stores and restores nothing; --json gives the cache figures', async () => {
  const p = project(`export default task('gen', { outputs: ['a.txt'], command: ['sh', '-c', 'echo aaa > a.txt'] });`);
  assert.equal((await p.run('--cache-mode=off')).code, 0);
  assert.equal(fs.existsSync(path.join(p.cacheDir, 'ac')), false);
  fs.rmSync(p.path('a.txt'));
  const json = await p.run('--json');
  const summary = JSON.parse(json.stdout.trim().split('\n').pop()!) as { cache: { misses: number; localHits: number } };
  assert.equal(summary.cache.misses, 1);
  fs.rmSync(p.path('a.txt'));
  const restored = await p.run('--json');
  const lines = restored.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines.find((l) => l.event === 'finished' && l.task === 'gen')?.cache, 'local');
  assert.equal((lines.pop()!.cache as { localHits: number }).localHits, 1);
});

test('a wrong cache setting is one line and exit 2, and never repeats a password', async () => {
  const p = project(`export default task('gen', { outputs: ['a.txt'], command: ['true'] });`);
  p.env = { TASK_CACHE_URL: 'ftp://user:s3cret@example/' };
  const bad = await p.run();
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'task: TASK_CACHE_URL is not an http:// or https:// URL\n');
  const query = await p.run('--cache-url', 'http://127.0.0.1:1/cache?token=s3cret');
  assert.equal(query.code, 2);
  assert.equal(query.stderr, 'task: --cache-url must not have a query or fragment: give a token in TASK_CACHE_TOKEN\n');
  const password = await p.run('--cache-url', 'http://user:s3cret@127.0.0.1:1/cache');
  assert.equal(password.code, 2);
  assert.match(password.stderr, /^task: --cache-url must not hold a user or password \(ps shows a command line to every user\): give them in TASK_CACHE_USER and TASK_CACHE_PASSWORD, TASK_CACHE_URL or ~\/\.netrc\n$/);
  const mode = await p.run('--cache-mode=sometimes');
  assert.equal(mode.code, 2);
  assert.match(mode.stderr, /^task: option --cache-mode: 'sometimes' is not one of readwrite, read, off\n$/);
});

test('the local cache keeps to its size limit, dropping the least recently used entries first', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'task-lru-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cache = new LocalCache(dir, 2500);
  const blobs: string[] = [];
  for (const [i, fill] of ['a', 'b', 'c'].entries()) {
    const { digest } = await cache.addBlob(Readable.from([Buffer.alloc(1000, fill)]));
    blobs.push(digest);
    // Used at distinct times, oldest first; then the first one is read again, so it is the newest.
    fs.utimesSync(cache.blobPath(digest), new Date(1e12 + i * 1000), new Date(1e12 + i * 1000));
  }
  for await (const chunk of cache.openBlob(blobs[0]!)) assert.ok(chunk);
  assert.ok(cache.evict() >= 1000);
  assert.deepEqual(blobs.map((d) => fs.existsSync(cache.blobPath(d))), [true, false, true]);
});

test('an output outside the project is keyed by its place, not its path: two projects that put it in different folders share it', async () => {
  // The path is a constant outside the run, as the recipe's machinesDir is: the run's text is the same in both.
  const taskfile = (out: string) => `const out = ${JSON.stringify(out)};\nexport default task('made', { outputs: [out], cache: true, run: (ctx) => ctx.exec('sh', ['-c', 'mkdir -p "$0" && echo made > "$0/file"', out]) });`;
  const p = project(taskfile('../elsewhere-a/out'));
  const outA = path.resolve(p.dir, '../elsewhere-a');
  after(() => fs.rmSync(outA, { recursive: true, force: true }));
  assert.equal((await p.run()).code, 0);
  const q = project(taskfile(''));
  const outB = path.join(os.tmpdir(), `task-elsewhere-b-${process.pid}`);
  after(() => fs.rmSync(outB, { recursive: true, force: true }));
  q.write('Taskfile.ts', fs.readFileSync(p.path('Taskfile.ts'), 'utf8').replace('../elsewhere-a/out', `${outB}/out`));
  q.cacheDir = p.cacheDir;
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /made: restored from the local cache/);
  assert.equal(fs.readFileSync(path.join(outB, 'out/file'), 'utf8'), 'made\n');
});

test('a task with a depfile is not cached: its inputs are known only after a run', async () => {
  const p = project(`export default task('cc', { outputs: ['a.o'], depfile: 'a.d', command: ['sh', '-c', 'echo o > a.o; echo "a.o: a.h" > a.d; echo x > a.h'] });`);
  assert.equal((await p.run()).code, 0);
  const explained = await p.run('--explain', '-f');
  assert.match(explained.stdout, /cc: out of date: forced \(-f\)\n {4}not cached: it has a depfile \(inputs found while running\)/);
  assert.equal(fs.existsSync(path.join(p.cacheDir, 'ac')) && fs.readdirSync(path.join(p.cacheDir, 'ac')).length, 0);
});

test('a cache: true task that discovers inputs on its first run stores nothing: a later build with another header runs it', async () => {
  const taskfile = `export default task('gen', { outputs: ['out.txt'], cache: true, run: async (ctx) => {
  const fs = await import('node:fs');
  fs.writeFileSync(ctx.root + '/out.txt', 'from ' + fs.readFileSync(ctx.root + '/cfg.h', 'utf8'));
  ctx.discovered(['cfg.h']);
} });`;
  const p = project(taskfile);
  p.write('cfg.h', 'one\n');
  assert.equal((await p.run()).code, 0);
  assert.equal(fs.existsSync(path.join(p.cacheDir, 'ac')) && fs.readdirSync(path.join(p.cacheDir, 'ac')).length, 0);
  // A fresh copy sharing the cache, with a different header: the task runs, nothing stale comes back.
  const q = project(taskfile);
  q.write('cfg.h', 'two\n');
  q.cacheDir = p.cacheDir;
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /restored/);
  assert.equal(fs.readFileSync(q.path('out.txt'), 'utf8'), 'from two\n');
});
