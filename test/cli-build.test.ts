// The CLI end to end on temporary Taskfiles: what runs, what is skipped, and why.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Project } from './helpers/cli-rig.ts';

const projects: Project[] = [];
after(() => projects.forEach((p) => p.remove()));

/** a and b sleep 1 s each and log start/end times; c needs both; all groups them. */
function parallelProject(): Project {
  const p = new Project(`
const greeting = param('greeting', 'hello', 'what b writes');
const stamp = (name: string, body: string) => ['-c', \`echo \${name} start $(date +%s%N) >> times; \${body}; echo \${name} end $(date +%s%N) >> times\`];
const a = task('a', { description: 'sleeps, writes a.out', inputs: ['a.in'], outputs: ['a.out'], run: (ctx) => ctx.exec('sh', stamp('a', 'sleep 1; tr a-z A-Z < a.in > a.out')) });
const b = task('b', { description: 'sleeps, writes b.out', values: { greeting }, outputs: ['b.out'], run: (ctx) => ctx.exec('sh', stamp('b', \`sleep 1; echo \${ctx.values.greeting} > b.out\`)) });
const c = task('c', { deps: [a, b], inputs: ['a.out', 'b.out'], outputs: ['c.out'], run: (ctx) => ctx.exec('sh', stamp('c', 'cat a.out b.out > c.out')) });
export default task('all', { description: 'everything', deps: [c] });
`);
  p.write('a.in', 'text\n');
  projects.push(p);
  return p;
}

function times(p: Project): Record<string, { start: bigint; end: bigint }> {
  const out: Record<string, { start: bigint; end: bigint }> = {};
  for (const line of p.read('times').trim().split('\n')) {
    const [name, what, ns] = line.split(' ') as [string, 'start' | 'end', string];
    out[name] ??= { start: 0n, end: 0n };
    out[name][what] = BigInt(ns);
  }
  return out;
}

test('independent tasks overlap, their dependent starts after both; a second run runs nothing', async () => {
  const p = parallelProject();
  const first = await p.run('-j', '2');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(Project.ran(first).sort(), ['a', 'b', 'c']);
  const t = times(p);
  assert.ok(t.a!.start < t.b!.end && t.b!.start < t.a!.end, `a and b overlap: ${JSON.stringify(p.read('times'))}`);
  assert.ok(t.c!.start > t.a!.end && t.c!.start > t.b!.end, 'c starts after a and b end');
  assert.equal(p.read('c.out'), 'TEXT\nhello\n');

  const second = await p.run();
  assert.equal(second.code, 0);
  assert.deepEqual(Project.ran(second), []);
  // The group all is not counted: it has no work of its own.
  assert.match(second.stderr, /nothing to do, 3 up to date/);
});

test('with -j 1 the same tasks do not overlap', async () => {
  const p = parallelProject();
  assert.equal((await p.run('-j', '1')).code, 0);
  const t = times(p);
  assert.ok(t.a!.end < t.b!.start || t.b!.end < t.a!.start);
});

test('an edited input reruns its task and dependents; -n and --explain name the file', async () => {
  const p = parallelProject();
  await p.run();
  p.write('a.in', 'changed\n');
  const dry = await p.run('-n');
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /^would run a: input a\.in changed$/m);
  assert.match(dry.stdout, /^would run c: dependency a will run$/m);
  assert.doesNotMatch(dry.stdout, /would run all/, 'a group is never work of its own');
  assert.doesNotMatch(dry.stdout, /would run b/);
  const explain = await p.run('--explain');
  assert.match(explain.stdout, /b: up to date/);
  assert.match(explain.stdout, /a: out of date: input a\.in changed/);
  const q = await p.run('-q');
  assert.equal(q.code, 1, '-q finds work');
  assert.equal(q.stdout, '');
  const again = await p.run();
  assert.deepEqual(Project.ran(again), ['a', 'c']);
  assert.equal((await p.run('-q')).code, 0, '-q finds nothing to do');
});

test('early cutoff: an input edit that leaves the output byte-identical stops there', async () => {
  const p = parallelProject();
  await p.run();
  p.write('a.in', 'TEXT\n'); // upper-cases to the same a.out
  const result = await p.run();
  assert.deepEqual(Project.ran(result), ['a']);
});

test('NAME=VALUE changes a value: the task reruns and --explain shows old and new', async () => {
  const p = parallelProject();
  await p.run();
  const explain = await p.run('--explain', 'greeting=bonjour');
  assert.match(explain.stdout, /b: out of date: value greeting changed: "hello" -> "bonjour"/);
  const result = await p.run('greeting=bonjour');
  assert.deepEqual(Project.ran(result), ['b', 'c']);
  assert.equal(p.read('c.out'), 'TEXT\nbonjour\n');
});

test('a deleted or hand-edited output reruns its task', async () => {
  const p = parallelProject();
  await p.run();
  p.write('c.out', 'edited by hand\n');
  const edited = await p.run('-n');
  assert.match(edited.stdout, /would run c: output c\.out was modified since it was built/);
  // c's rerun writes the same bytes it had recorded: early cutoff, all stays up to date.
  assert.deepEqual(Project.ran(await p.run()), ['c']);
  assert.equal(p.read('c.out'), 'TEXT\nhello\n');
  (await import('node:fs')).rmSync(p.path('b.out'));
  const deleted = await p.run();
  assert.match(deleted.stdout, /b: running \(output b\.out is missing\)/);
});

test('-f reruns the named target and not its dependencies', async () => {
  const p = parallelProject();
  await p.run();
  const result = await p.run('-f', 'c');
  assert.deepEqual(Project.ran(result), ['c']);
  assert.match(result.stdout, /c: running \(forced \(-f\)\)/);
});

test('a failing command: exit 1, its exit code, last lines and the log path; -k goes on', async () => {
  const p = new Project(`
const broken = task('broken', { run: (ctx) => ctx.exec('sh', ['-c', 'for i in 1 2 3; do echo line $i; done; echo oops >&2; exit 3']) });
const after = task('after-broken', { deps: [broken], run: (ctx) => ctx.exec('touch', ['after']) });
const fine = task('fine', { run: (ctx) => ctx.exec('sh', ['-c', 'sleep 0.3; touch fine']) });
export default task('all', { deps: [after, fine] });
`);
  projects.push(p);
  const stopped = await p.run('-j', '1');
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /task 'broken' failed: command exited with code 3: sh -c/);
  // The failure, on stderr: the command, shell-quoted, and the task's output (all 5 lines: under 30, nothing cut).
  assert.match(stopped.stderr, /^  command: sh -c 'for i in 1 2 3; do echo line \$i; done; echo oops >&2; exit 3'$/m);
  assert.match(stopped.stderr, /its output:\n(.*\n)*\s+line 3\n\s+oops/);
  assert.doesNotMatch(stopped.stdout, /oops/, 'stdout has progress lines only');
  assert.match(stopped.stderr, /full log: .*\.task\/logs\/broken\.log/);
  assert.match(p.read('.task/logs/broken.log'), /line 1\nline 2\nline 3\noops/);
  assert.equal(p.exists('after'), false);

  const going = await p.run('-k');
  assert.equal(going.code, 1);
  assert.equal(p.exists('fine'), true, '-k ran the independent task');
  assert.match(going.stdout, /after-broken: skipped, dependency broken failed/);
  assert.match(going.stdout, /all: skipped, dependency broken failed/);
  // The group 'all' is not a task of its own: not counted among the skipped.
  assert.match(going.stderr, /1 ran, 1 failed, 1 skipped/);
});

test("logs: a task's commands and output; none for a task that printed nothing (an older one is removed); a failure's command is kept", async () => {
  const p = new Project(`
const mode = param('mode', 'loud', 'loud, quiet or fail');
const commands: Record<string, string> = { loud: 'echo hello', quiet: 'true', fail: 'exit 3' };
export default task('a', { values: { mode }, run: (ctx) => ctx.exec('sh', ['-c', commands[String(ctx.values.mode)]!]) });
`);
  projects.push(p);
  assert.equal((await p.run()).code, 0);
  assert.equal(p.read('.task/logs/a.log'), "$ sh -c 'echo hello'\nhello\n");
  assert.equal((await p.run('mode=quiet')).code, 0);
  assert.equal(p.exists('.task/logs/a.log'), false, "the loud run's log is not this run's");
  const failed = await p.run('mode=fail');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /full log: .*\.task\/logs\/a\.log/);
  assert.equal(p.read('.task/logs/a.log'), "$ sh -c 'exit 3'\n");
});

test('a task that does not create its declared output fails, naming it', async () => {
  const p = new Project(`export default task('lazy', { outputs: ['made.txt'], run: async () => {} });`);
  projects.push(p);
  const result = await p.run();
  assert.equal(result.code, 1);
  assert.match(result.stderr, /task 'lazy' did not create its declared output made\.txt/);
  assert.equal((await p.run('-q')).code, 1, 'nothing was recorded as done');
});

test('garbage in the state store gives a warning and a correct build', async () => {
  const p = parallelProject();
  await p.run();
  p.write('.task/state.json', '\u0000garbage{');
  const result = await p.run();
  assert.equal(result.code, 0);
  assert.match(result.stderr, /warning: the state store .*state\.json is not valid JSON; treating it as empty/);
  assert.deepEqual(Project.ran(result).sort(), ['a', 'b', 'c']);
  assert.deepEqual(Project.ran(await p.run()), [], 'the rewritten store is good');
});

test('a task timeout stops its command and fails the task; its log keeps the command and what it printed', async () => {
  // The command prints once more while it stops: that late line must not wipe the log.
  const script = "trap 'echo stopping; sleep 0.3; exit 1' TERM; echo started; sleep 30 & wait";
  const p = new Project(`export default task('hang', { timeout: 500, run: (ctx) => ctx.exec('sh', ['-c', ${JSON.stringify(script)}]) });`);
  projects.push(p);
  const started = Date.now();
  const result = await p.run();
  assert.equal(result.code, 1);
  // Which limit (the task's own), after how long, and what the command printed.
  assert.match(result.stderr, /task 'hang' failed: timed out after \d+ms: the task's own limit \(timeout: 500 ms\)\n  its output:\n.*\n    started\n/);
  assert.ok(Date.now() - started < 20_000);
  const log = p.read('.task/logs/hang.log');
  assert.match(log, /^\$ sh -c .*\nstarted\n/);
});

test('--clean removes recorded outputs and state', async () => {
  const p = parallelProject();
  await p.run();
  const cleaned = await p.run('--clean', 'c');
  assert.equal(cleaned.code, 0);
  assert.match(cleaned.stdout, /removed c\.out/);
  assert.equal(p.exists('c.out'), false);
  assert.equal(p.exists('a.out'), true);
  assert.deepEqual(Project.ran(await p.run()), ['c']);
  await p.run('--clean');
  assert.equal(p.exists('a.out'), false);
  assert.deepEqual(Project.ran(await p.run()).sort(), ['a', 'b', 'c']);
});

test('a reader that stops reading (`task | head`) does not stop the build: it finishes and records', async () => {
  const p = new Project(`
const steps = [0, 1, 2, 3, 4, 5].map((i) => task('step' + i, { outputs: ['out' + i], run: (ctx) => ctx.exec('sh', ['-c', 'sleep 0.2; echo step > out' + i]) }));
export default task('all', { deps: steps });
`);
  projects.push(p);
  const child = p.spawn(['-j', '1']);
  // Close the pipe at the first output, as `head -1` does once it has its line.
  child.stdout!.once('data', () => child.stdout!.destroy());
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
  for (let i = 0; i < 6; i++) assert.equal(p.read(`out${i}`), 'step\n');
  const again = await p.run();
  assert.match(again.stderr, /nothing to do, 6 up to date/, "the group all is not counted");
});

test('with stdout and stderr both gone (`task 2>&1 | head`), an interrupt still ends the build as one: exit 130', async () => {
  const p = new Project(`
export default task('slow', { outputs: ['out'], run: (ctx) => ctx.exec('sh', ['-c', 'echo started; sleep 20; echo done > out']) });
`);
  projects.push(p);
  const child = p.spawn([]);
  // Both pipes closed at the first output; the interrupt's message then goes to a closed stderr.
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 130);
  assert.equal(p.exists('out'), false);
});

test("after Ctrl-C the summary's time, and the task's in the timings log, count until the commands have stopped (one that traps SIGTERM takes its time)", async () => {
  const script = "trap 'sleep 1.5; exit 1' TERM; echo started; sleep 30 & wait";
  const p = new Project(`export default task('slow', { outputs: ['out'], run: (ctx) => ctx.exec('sh', ['-c', ${JSON.stringify(script)}]) });`);
  projects.push(p);
  const child = p.spawn([]);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  // The task has begun; its shell sets its trap at once.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const interrupted = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const stopped = Date.now() - interrupted;
  assert.equal(code, 130);
  const said = /^task: 1 interrupted \((\d+(?:\.\d+)?)(ms|s)\)$/m.exec(stderr);
  assert.ok(said, stderr);
  const ms = Number(said[1]) * (said[2] === 's' ? 1000 : 1);
  assert.ok(stopped >= 1400, `the command took its 1.5 s to stop (${stopped} ms)`);
  assert.ok(ms >= 1400, `the summary says ${said[0]}, after ${stopped} ms`);
  const line = p.read('.task/timings.log').split('\n').find((l) => l.endsWith('\tslow'))!;
  const [start, end, status] = line.split('\t');
  assert.equal(status, 'interrupted');
  assert.ok(Number(end) - interrupted >= 1400, `the log's end is after the command stopped, ${Number(end) - interrupted} ms after the interrupt`);
  assert.ok(Number(end) - Number(start) >= 1900, `the log's duration counts the grace period: ${Number(end) - Number(start)} ms`);
});

test("commands see process.env as the Taskfile left it, not a run's later change (that is exec's env option)", async () => {
  const p = new Project(`
process.env.TASK_TEST_EARLY = 'set while loading';
export default task('env', { outputs: ['env.out'], run: async (ctx) => {
  process.env.TASK_TEST_LATE = 'set by run';
  await ctx.exec('sh', ['-c', 'echo "\${TASK_TEST_EARLY-unset} / \${TASK_TEST_LATE-unset} / \${TASK_TEST_PASSED-unset}" > env.out'], { env: { TASK_TEST_PASSED: 'passed' } });
} });
`);
  projects.push(p);
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('env.out'), 'set while loading / unset / passed\n');
});
