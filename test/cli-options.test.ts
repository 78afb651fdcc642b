// --list, --graph, --taskfile, -C, the lock, and interrupts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Project, alive, finished, projectMaker, waitForFile } from './helpers/cli-rig.ts';

const project = projectMaker(after);

const recipe = `
const suite = param('suite', 'bookworm', 'Debian suite');
const rootfs = task('rootfs', { description: 'debootstrap a rootfs', values: { suite }, run: async () => {} });
const execd = task('execd', { description: 'go build', run: async () => {} });
const chroot = task('chroot', { description: 'prepare the rootfs', deps: [rootfs, execd], run: async () => {} });
export default task('all', { description: 'everything', deps: [chroot] });
`;

test('--list shows tasks with descriptions and parameters with defaults', async () => {
  const result = await project(recipe).run('--list', 'suite=trixie');
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^ {2}rootfs +debootstrap a rootfs$/m);
  assert.match(result.stdout, /^ {2}all +everything \(default\)$/m);
  assert.match(result.stdout, /^ {2}suite="bookworm" +Debian suite \(now "trixie"\)$/m);
});

test('--list TARGET lists only the tasks the target needs; a mistyped target is refused', async () => {
  const p = project(recipe);
  const result = await p.run('--list', 'chroot');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.split('\n').filter((line) => /^ {2}[a-z]+ {2}/.test(line)).map((line) => line.trim().split(/ +/)[0]), ['rootfs', 'execd', 'chroot']);
  assert.match(result.stdout, /^ {2}suite="bookworm" +Debian suite$/m);
  const typo = await p.run('-l', 'chrot');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /^task: .*chrot.*did you mean 'chroot'/);
});

test('--graph prints the targets\' DAG in Graphviz DOT', async () => {
  const result = await project(recipe).run('--graph', 'chroot');
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^digraph tasks \{/);
  assert.match(result.stdout, /"rootfs" -> "chroot";/);
  assert.match(result.stdout, /"execd" -> "chroot";/);
  assert.doesNotMatch(result.stdout, /"all"/);
  assert.match(result.stdout, /\}\n$/);
});

test('-C DIR and --taskfile FILE find the Taskfile elsewhere', async () => {
  const p = project(recipe);
  const parent = path.dirname(p.dir);
  const viaC = await p.runIn(parent, '-C', path.basename(p.dir), '-n');
  assert.equal(viaC.code, 0, viaC.stderr);
  assert.match(viaC.stdout, /would run rootfs/);
  fs.renameSync(p.path('Taskfile.ts'), p.path('build.ts'));
  const viaFile = await p.run('--taskfile', 'build.ts', '-n', 'execd');
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.match(viaFile.stdout, /would run execd/);
});

test('a second run in the same folder fails naming the first one\'s pid', async () => {
  const p = project(`export default task('slow', { run: (ctx) => ctx.exec('sh', ['-c', 'touch started; sleep 5']) });`);
  const first = p.spawn([]);
  const firstDone = finished(first);
  await waitForFile(p.path('started'));
  const second = await p.run();
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`another task run \\(pid ${first.pid}\\) is building in this folder`));
  first.kill('SIGINT');
  assert.equal((await firstDone).code, 130);
});

test('a lock left by a killed run is taken over', async () => {
  const p = project(`export default task('quick', { run: async () => {} });`);
  p.write('.task/lock', '999999999\n');
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.exists('.task/lock'), false);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during a long command exits 130, leaves no child, and the task runs again next time`, async () => {
    const p = project(`
const quick = task('quick', { outputs: ['quick.out'], run: (ctx) => ctx.exec('sh', ['-c', 'echo done > quick.out']) });
const long = task('long', { outputs: ['long.out'], run: (ctx) => ctx.exec('sh', ['-c', 'sleep 60 & echo $! > grandchild.pid; echo $$ > child.pid; wait; echo never > long.out']) });
export default task('all', { deps: [quick, long] });
`);
    const child = p.spawn(['-j', '1']);
    const done = finished(child);
    await waitForFile(p.path('grandchild.pid'));
    await waitForFile(p.path('child.pid'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill(signal);
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    const pids = [p.read('child.pid'), p.read('grandchild.pid')].map((text) => Number(text.trim()));
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} is gone`);
    assert.match(result.stdout, /long: interrupted/);
    const next = await p.run('-n');
    assert.match(next.stdout, /would run long: no record of a previous successful run/);
    assert.doesNotMatch(next.stdout, /would run quick/, 'what finished before the interrupt is kept');
  });
}
