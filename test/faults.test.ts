// Fault injection: signals and crashes at many points of a build, damaged or unwritable state,
// inputs edited mid-run, huge output. After each fault a normal run must give the result of a
// clean build, and nothing interrupted may ever be recorded as done.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadState } from '../src/state/state.ts';
import { writeFileAtomic } from '../tasks/lib/files.ts';
import { Project, alive, finished, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

/**
 * Eight tasks: two chains of three and a join, each a short command that records its pid and
 * builds its output from its inputs. Every finished output is a pure function of the sources.
 */
const chainTaskfile = `
const step = (name: string, inputs: string[]) => task(name, {
  inputs,
  outputs: [\`out/\${name}.txt\`],
  run: (ctx) => ctx.exec('sh', ['-c', 'echo $$ >> pids; mkdir -p out; sleep 0.12; { cat "$@"; echo "$0"; } > "out/$0.tmp" && mv "out/$0.tmp" "out/$0.txt"', name, ...inputs]),
});
step('a1', ['src/a.txt']); step('a2', ['out/a1.txt']); step('a3', ['out/a2.txt']);
step('b1', ['src/b.txt']); step('b2', ['out/b1.txt']); step('b3', ['out/b2.txt']);
step('join', ['out/a3.txt', 'out/b3.txt']);
export default task('all', { deps: ['join'] });
`;
const taskNames = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'join'];

function chainProject(): Project {
  const p = project(chainTaskfile);
  p.write('src/a.txt', 'A\n');
  p.write('src/b.txt', 'B\n');
  return p;
}

function outputs(p: Project): Record<string, string> {
  return Object.fromEntries(taskNames.map((n) => [n, p.exists(`out/${n}.txt`) ? p.read(`out/${n}.txt`) : '']));
}

const reference = (() => {
  let cached: Record<string, string> | undefined;
  return async () => {
    if (!cached) {
      const p = chainProject();
      assert.equal((await p.run('-j', '2')).code, 0);
      cached = outputs(p);
    }
    return cached;
  };
})();

const recorded = (p: Project) => [...loadState(p.path('.task'), { journal: false }).tasks.keys()];

for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} at many points of a build: the next run redoes exactly what did not finish`, async () => {
    const clean = await reference();
    // Delays from "before any task starts" through "while commands run" to "while the store is written".
    for (const delayMs of [0, 150, 300, 450, 600, 750, 900, 1050, 1200]) {
      const p = chainProject();
      const child = p.spawn(['-j', '2']);
      const done = finished(child);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill(signal);
      const killed = await done;
      // 130 once the CLI has its handlers; killed by the signal itself if it came before them.
      if (signal !== 'SIGKILL') assert.ok(killed.code === 130 || killed.code === 0 || killed.signal === signal, `exit ${killed.code} after ${delayMs} ms: ${killed.stderr}`);
      if (signal !== 'SIGKILL' && p.exists('pids')) {
        for (const pid of p.read('pids').trim().split('\n').map(Number)) assert.equal(alive(pid), false, `command ${pid} outlived the CLI (${delayMs} ms)`);
      }
      // What the killed run recorded must be really done: its output whole and equal to a clean build's.
      const state = loadState(p.path('.task'), { journal: false });
      assert.deepEqual(state.warnings, [], `the state is readable after ${signal} at ${delayMs} ms`);
      const done1 = recorded(p);
      for (const name of done1) if (name !== 'all') assert.equal(p.read(`out/${name}.txt`), clean[name], `${name} recorded as done is complete`);
      if (signal === 'SIGKILL') await new Promise((resolve) => setTimeout(resolve, 400)); // orphaned commands finish or die
      const next = await p.run('-j', '2');
      assert.equal(next.code, 0, next.stdout + next.stderr);
      const rerun = Project.ran(next);
      for (const name of rerun) assert.ok(!done1.includes(name), `${name} was recorded as done and ran again (${signal} at ${delayMs} ms)`);
      for (const name of taskNames) assert.ok(done1.includes(name) || rerun.includes(name), `${name} neither recorded nor rerun`);
      assert.deepEqual(outputs(p), clean, `same result as a clean build (${signal} at ${delayMs} ms)`);
    }
  });
}

test('an input edited while its task runs is seen by the next run', async () => {
  const p = project(`export default task('copy', { inputs: ['in.txt'], outputs: ['out.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'touch started; sleep 0.6; cp in.txt out.txt']) });`);
  p.write('in.txt', 'first\n');
  const child = p.spawn([]);
  const done = finished(child);
  while (!p.exists('started')) await new Promise((resolve) => setTimeout(resolve, 10));
  p.write('in.txt', 'second, written while the task ran\n');
  assert.equal((await done).code, 0);
  const next = await p.run();
  assert.deepEqual(Project.ran(next), ['copy']);
  assert.match(next.stdout, /copy: running \(input in\.txt changed\)/);
  assert.equal(p.read('out.txt'), 'second, written while the task ran\n');
});

test('huge output: the log keeps all of it, the report shows its tail', async () => {
  const p = project(`export default task('loud', { run: (ctx) => ctx.exec('sh', ['-c', 'seq 1 300000; echo the end; exit 3']) });`);
  const result = await p.run();
  assert.equal(result.code, 1);
  // The failure report is on stderr (issue 14).
  assert.match(result.stderr, /300000\n\s+the end\n/);
  const log = p.read('.task/logs/loud.log').split('\n');
  assert.equal(log.length, 300_003, 'the command line, 300,000 numbers, the last line, and the final newline');
  assert.ok(result.stdout.length + result.stderr.length < 10_000, 'the report is not flooded');
});

const root = process.getuid?.() === 0;
const mountSkip = root ? false : 'needs root to mount a small or read-only tmpfs';

function mountTmpfs(dir: string, options: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  return () => execFileSync('umount', ['-l', dir]);
}

test('a full disk under .task: a clear message, no crash, and what was recorded is kept', { skip: mountSkip }, async () => {
  const p = project(`
task('small', { outputs: ['small.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo small > small.txt']) });
export default task('big', { deps: ['small'], always: true, run: (ctx) => ctx.exec('sh', ['-c', 'head -c 400000 /dev/zero | tr "\\\\0" x | fold -w 100']) });
`);
  const unmount = mountTmpfs(p.path('.task'), 'size=128k');
  try {
    const first = await p.run('small');
    assert.equal(first.code, 0, first.stderr);
    const full = await p.run();
    assert.notEqual(full.code, 0);
    assert.doesNotMatch(full.stdout + full.stderr, /internal error|    at /, 'no stack trace');
    assert.match(full.stdout + full.stderr, /no space left on device|ENOSPC/i);
    const state = loadState(p.path('.task'), { journal: false });
    assert.ok(state.get('small'), 'the record of small survived the full disk');
  } finally {
    unmount();
  }
});

test('a read-only state folder: a clear message, exit 1, nothing lost', { skip: mountSkip }, async () => {
  const p = project(`export default task('a', { outputs: ['a.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo a > a.txt']) });`);
  const unmount = mountTmpfs(p.path('.task'), 'size=1m');
  try {
    assert.equal((await p.run()).code, 0);
    const before = p.read('.task/state.json');
    execFileSync('mount', ['-o', 'remount,ro', p.path('.task')]);
    fs.rmSync(p.path('a.txt'));
    const result = await p.run();
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot create the lock .*\.task\/lock: .*read-only file system/i);
    assert.doesNotMatch(result.stderr, /    at /);
    assert.equal(p.read('.task/state.json'), before);
    const dry = await p.run('-n');
    assert.equal(dry.code, 0, '-n still works on a read-only state folder');
    assert.match(dry.stdout, /would run a: output a\.txt is missing/);
  } finally {
    unmount();
  }
});

test('a reader of a file rewritten by writeFileAtomic never sees a partial file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
  const file = path.join(dir, 'hosts');
  const versions = ['127.0.0.1 localhost\n'.repeat(2000), '127.0.0.1 localhost\r\n# other\r\n'.repeat(3000)];
  fs.writeFileSync(file, versions[0]!);
  fs.writeFileSync(path.join(dir, 'v0'), versions[0]!);
  fs.writeFileSync(path.join(dir, 'v1'), versions[1]!);
  const reader = spawn(process.execPath, ['-e', `
const fs = require('fs'); const ok = new Set(process.argv.slice(1).map((f) => fs.readFileSync(f, 'utf8')));
let reads = 0; const until = Date.now() + 1500;
while (Date.now() < until) { const t = fs.readFileSync(${JSON.stringify(file)}, 'utf8'); if (!ok.has(t)) { console.log('PARTIAL ' + t.length); process.exit(1); } reads++; }
console.log('reads ' + reads);`, path.join(dir, 'v0'), path.join(dir, 'v1')]);
  const done = finished(reader);
  const until = Date.now() + 1400;
  for (let i = 0; Date.now() < until; i++) {
    writeFileAtomic(file, versions[i % 2]!);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const result = await done;
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /reads \d+/);
});
