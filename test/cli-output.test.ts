// What a build prints (issue 14): a succeeded task's output shown as ninja shows it, a failure's
// first and last lines with its command and log, which limit a timeout hit, failures and the
// summary on stderr, and groups not counted as tasks.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

test('a task that succeeds but prints (a warning) has its output shown after its line, without its commands', async () => {
  const p = project(`
const warns = task('warns', { run: (ctx) => ctx.exec('sh', ['-c', 'echo "warning: unused x" >&2']) });
const silent = task('silent', { run: (ctx) => ctx.exec('true') });
export default task('all', { deps: [warns, silent] });
`);
  const result = await p.run('-j', '1');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\[\d\/2\] warns: done in \S+\n  warning: unused x$/m);
  assert.doesNotMatch(result.stdout, /\$ sh -c/, 'the command line is not shown for a success');
  assert.match(result.stdout, /^\[\d\/2\] silent: done in \S+$/m);
  assert.doesNotMatch(result.stdout, /silent: done in \S+\n  /, 'a silent task shows nothing more');
  // -v printed the lines as they came: not printed twice.
  const verbose = await p.run('-v', '-f', 'warns');
  assert.equal(verbose.stdout.match(/^(warns \| )?\s*warning: unused x$/gm)?.length, 1, verbose.stdout);
});

test('a failure shows the first 10 and last 20 lines with what was cut, the command shell-quoted and the log, on stderr', async () => {
  const p = project(`export default task('noisy', { run: (ctx) => ctx.exec('sh', ['-c', 'for i in $(seq 1 45); do echo "line $i"; done; exit 4']) });`);
  const result = await p.run();
  assert.equal(result.code, 1);
  assert.equal(result.stdout.includes('line 1'), false, 'nothing of the failure on stdout');
  const report = result.stderr.split('\n');
  const at = report.findIndex((line) => line.startsWith("task 'noisy' failed: command exited with code 4: "));
  assert.ok(at >= 0, result.stderr);
  assert.equal(report[at + 1], `  command: sh -c 'for i in $(seq 1 45); do echo "line $i"; done; exit 4'`);
  assert.equal(report[at + 2], '  its output, first and last lines of 46:');
  // The log's first line is the command; then lines 1..9 make the first 10, 26..45 the last 20.
  const shown = report.slice(at + 3, at + 3 + 31).map((line) => line.trim());
  assert.deepEqual(shown.slice(0, 10), ["$ sh -c 'for i in $(seq 1 45); do echo \"line $i\"; done; exit 4'", ...Array.from({ length: 9 }, (_, i) => `line ${i + 1}`)]);
  assert.equal(shown[10], '… 16 lines …');
  assert.deepEqual(shown.slice(11), Array.from({ length: 20 }, (_, i) => `line ${i + 26}`));
  assert.match(report[at + 34]!, /^  full log: .*\.task\/logs\/noisy\.log$/);
  assert.match(result.stderr, /^task: 1 failed \(\S+\)$/m, 'the summary is on stderr');
});

test('a failure whose output is one line longer than the excerpt shows all of it: cutting one line saves nothing', async () => {
  const p = project(`export default task('noisy', { run: (ctx) => ctx.exec('sh', ['-c', 'for i in $(seq 1 30); do echo "line $i"; done; exit 4']) });`);
  const result = await p.run();
  assert.equal(result.code, 1);
  const report = result.stderr.split('\n');
  const at = report.findIndex((line) => line.startsWith('  its output'));
  assert.ok(at >= 0, result.stderr);
  // The command's line and 30 lines of its output: 31.
  const shown = report.slice(at + 1, at + 32).map((line) => line.trim());
  assert.deepEqual(shown.slice(1), Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
  assert.doesNotMatch(result.stderr, /… \d+ lines? …/);
});

test("a command's own timeout says it was exec's timeout option, after how long, with the output so far", async () => {
  const p = project(`export default task('waits', { run: (ctx) => ctx.exec('sh', ['-c', 'echo begun; exec sleep 30'], { timeout: 1500 }) });`);
  const result = await p.run();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /task 'waits' failed: command timed out after 1500 ms \(exec's timeout option\): sh -c 'echo begun; exec sleep 30'\n/);
  assert.match(result.stderr, /its output:\n.*\n    begun\n/);
});

test('groups are not counted: not in [n/total], not among the up to date', async () => {
  const p = project(`
const a = task('a', { run: async () => {} });
const b = task('b', { deps: [a], run: async () => {} });
const both = task('both', { deps: [a, b] });
export default task('all', { deps: [both] });
`);
  const first = await p.run();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^\[1\/2\] a: done/m);
  assert.match(first.stdout, /^\[2\/2\] b: done/m);
  assert.doesNotMatch(first.stdout, /both|all/);
  assert.match(first.stderr, /^task: 2 ran \(\S+\)$/m);
  // Up to date: by the build (-f a reruns a; b and the groups are decided task by task) and by the snapshot.
  const forced = await p.run('-f', 'a');
  assert.match(forced.stderr, /^task: 1 ran \(\S+\)$/m, forced.stderr);
  assert.match((await p.run()).stderr, /^task: 1 ran, 1 up to date \(\S+\)$/m, 'b reruns after a did');
  const again = await p.run();
  assert.match(again.stderr, /^task: nothing to do, 2 up to date \(\S+\)$/m);
  const explain = await p.run('--explain');
  assert.match(explain.stdout, /^\[2\/2\] b: up to date$/m);
  assert.doesNotMatch(explain.stdout, /all: up to date/);
});
