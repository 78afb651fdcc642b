// Failure paths a careful user can hit: terminals, signals, locks, dry runs on fresh trees,
// mistakes in a Taskfile's fields.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { Project, alive, bin, finished, projectMaker, waitForFile } from './helpers/cli-rig.ts';

const project = projectMaker(after);

test('on a terminal, a failing task is reported, not a crash, and the lock is released', async () => {
  const p = project(`
const bad = task('bad', { run: (ctx) => ctx.exec('sh', ['-c', 'echo broken; exit 4']) });
const slow = task('slow', { run: (ctx) => ctx.exec('sleep', ['0.5']) });
export default task('all', { deps: [bad, slow] });
`);
  // script(1) gives the CLI a pseudo-terminal, so the live listr2 display is used.
  const child = spawn('script', ['-qec', `stty cols 80 rows 24; ${process.execPath} ${bin} -k`, '/dev/null'], { cwd: p.dir, env: { ...process.env, CI: '', TERM: 'xterm' } });
  const result = await finished(child);
  assert.equal(result.code, 1, result.stdout);
  // Colour codes stripped: on a terminal the summary is in colour.
  assert.match(result.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /task 'bad' failed: command exited with code 4/);
  assert.match(result.stdout, /\x1b\[\?25h/, 'the live display (listr2) drew on the terminal');
  assert.doesNotMatch(result.stdout + result.stderr, /internal error|at LazyTerminalReporter/);
  assert.equal(p.exists('.task/lock'), false);
});

test('a dead run\'s lock is taken over by exactly one of several runs started together', async () => {
  const p = project(`export default task('work', { always: true, run: (ctx) => ctx.exec('sh', ['-c', 'echo start $PPID >> log; sleep 0.3; echo end $PPID >> log']) });`);
  for (let round = 0; round < 4; round++) {
    p.write('.task/lock', '999999999\n');
    const results = await Promise.all(Array.from({ length: 5 }, () => p.run()));
    const lines = p.read('log').trim().split('\n');
    for (let i = 0; i < lines.length; i += 2) {
      assert.match(lines[i]!, /^start/, `runs overlapped: ${lines.join(' | ')}`);
      assert.match(lines[i + 1]!, /^end/, `runs overlapped: ${lines.join(' | ')}`);
    }
    for (const r of results) assert.ok(r.code === 0 || /another task run \(pid \d+\)/.test(r.stderr), r.stderr);
    assert.ok(results.some((r) => r.code === 0));
  }
});

test('-n on a fresh tree: a task whose input a dependency will make would run, it does not fail', async () => {
  const p = project(`
const a = task('a', { outputs: ['a.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo a > a.txt']) });
export default task('b', { inputs: ['a.txt'], outputs: ['b.txt'], run: (ctx) => ctx.exec('cp', ['a.txt', 'b.txt']) });
`);
  const dry = await p.run('-n');
  assert.equal(dry.code, 0, dry.stdout);
  assert.match(dry.stdout, /would run a: no record/);
  assert.match(dry.stdout, /would run b: dependency a will run/);
  // b never named a as a dependency: reading a's output makes it one, as in make.
  const real = await p.run('-j', '4');
  assert.equal(real.code, 0, real.stdout);
  assert.deepEqual(Project.ran(real), ['a', 'b']);
  assert.equal(p.read('b.txt'), 'a\n');
});

test('--version prints the version and builds nothing', async () => {
  const p = project(`export default task('a', { run: (ctx) => ctx.exec('touch', ['made']) });`);
  const result = await p.run('--version');
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^task \d+\.\d+\.\d+\n$/);
  assert.equal(p.exists('made'), false);
});

test('an interrupt during a check loses no record', async () => {
  const p = project(`export default task('probe', { check: async (ctx) => { await ctx.exec('sh', ['-c', 'touch checking; sleep 5'], { quiet: true }); return true; }, run: async () => {} });`);
  assert.equal((await p.run()).code, 0);
  const child = p.spawn([]);
  const done = finished(child);
  await waitForFile(p.path('checking'));
  child.kill('SIGINT');
  assert.equal((await done).code, 130);
  const next = await p.run('--explain');
  assert.doesNotMatch(next.stdout, /no record/, next.stdout);
});

test('after an interrupt the CLI exits at once, even if a run ignores its signal', async () => {
  const p = project(`export default task('stubborn', { run: async () => { require('node:fs').writeFileSync('started', ''); await new Promise((r) => setTimeout(r, 20_000)); } });`);
  const child = p.spawn([]);
  const done = finished(child);
  await waitForFile(p.path('started'));
  const sent = Date.now();
  child.kill('SIGINT');
  assert.equal((await done).code, 130);
  assert.ok(Date.now() - sent < 10_000, 'it did not wait for the abandoned run');
});

test('SIGHUP (a closed terminal) stops commands like SIGTERM', async () => {
  const p = project(`export default task('long', { run: (ctx) => ctx.exec('sh', ['-c', 'echo $$ > child.pid; sleep 60']) });`);
  const child = p.spawn([]);
  const done = finished(child);
  await waitForFile(p.path('child.pid'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  child.kill('SIGHUP');
  assert.equal((await done).code, 130);
  assert.equal(alive(Number(p.read('child.pid'))), false);
  assert.equal(p.exists('.task/lock'), false);
});

test('mistakes in a task\'s fields are Taskfile errors, not crashes', async () => {
  const wrongType = await project(`export default task('a', { outputs: 'x.txt' as any });`).run();
  assert.equal(wrongType.code, 2);
  assert.match(wrongType.stderr, /task 'a': outputs must be an array of strings/);
  const typo = await project(`export default task('a', { input: ['x'] } as any);`).run();
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /task 'a': unknown field 'input' \(did you mean 'inputs'\?\)/);
  const own = await project(`export default task('a', { inputs: ['x'], outputs: ['x'] });`).run();
  assert.equal(own.code, 2);
  assert.match(own.stderr, /task 'a' declares x both as an input and as an output/);
  const thrown = await project(`export default task('a', { run: async () => { throw undefined; } });`).run();
  assert.equal(thrown.code, 1);
  assert.match(thrown.stderr, /task 'a' failed: task 'a' threw undefined/);
  assert.doesNotMatch(thrown.stderr, /internal error/);
  // A value JSON cannot write (a BigInt) is still a one-line failure, not a crash.
  const big = await project(`export default task('a', { run: async () => { throw 1n; } });`).run();
  assert.equal(big.code, 1, big.stderr);
  assert.match(big.stderr, /task 'a' failed: task 'a' threw 1\n/);
  assert.doesNotMatch(big.stderr, /internal error|\n\s+at /);
});

test('many tasks at once print no listener warning', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `t${i}`);
  const p = project(`${names.map((n) => `task('${n}', { run: (ctx) => ctx.exec('sleep', ['0.2']) });`).join('\n')}\nexport default task('all', { deps: ${JSON.stringify(names)} });`);
  const result = await p.run('-j', '12');
  assert.equal(result.code, 0);
  assert.doesNotMatch(result.stderr, /MaxListenersExceeded/);
});

test('a removed dependency is named by --explain', async () => {
  const p = project(`task('a', { run: async () => {} }); export default task('b', { deps: ['a'], run: async () => {} });`);
  await p.run();
  p.write('Taskfile.ts', p.read('Taskfile.ts').replace("deps: ['a'], ", ''));
  const explain = await p.run('--explain');
  assert.match(explain.stdout, /b: out of date: dependency a was removed/);
});

test('an unreadable state journal stops the run with one line naming it, exit 1, and the records are kept', async () => {
  const p = project(`export default task('copy', { inputs: ['in.txt'], outputs: ['out.txt'], run: (ctx) => ctx.exec('cp', ['in.txt', 'out.txt']) });`);
  p.write('in.txt', 'one\n');
  assert.equal((await p.run()).code, 0);
  const store = p.read('.task/state.json');
  p.write('in.txt', 'two\n');
  // A journal that cannot be read (EISDIR here; EACCES or EIO alike) may hold the removal of a
  // record: guessing "no journal" could call copy up to date.
  fs.mkdirSync(p.path('.task/journal'));
  for (const args of [[], ['-n'], ['-q']]) {
    const result = await p.run(...args);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^task: cannot read the state journal \S*\.task\/journal: EISDIR[^\n]*\n$/);
  }
  assert.equal(p.read('out.txt'), 'one\n', 'nothing ran');
  assert.equal(p.read('.task/state.json'), store, 'nothing recorded is lost');
  assert.equal(p.exists('.task/lock'), false, 'the lock is released');
  fs.rmdirSync(p.path('.task/journal'));
  assert.equal((await p.run()).code, 0);
  assert.equal(p.read('out.txt'), 'two\n');
});
