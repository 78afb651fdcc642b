// Scheduling through the engine: the jobs limit, pools, stopping after a failure, -k, critical path first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRunner } from '../src/build/execute.ts';
import { EngineRig } from './helpers/engine-rig.ts';
import { pool } from '../src/index.ts';
import { TaskfileError } from '../src/base/errors.ts';

/** A runner whose tasks wait until the test releases them, recording how many ran at once. */
function gatedRunner() {
  const waiting = new Map<string, () => void>();
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  let onStart: (() => void) | undefined;
  const runner: TaskRunner = async (node) => {
    started.push(node.name);
    running++;
    peak = Math.max(peak, running);
    onStart?.();
    await new Promise<void>((resolve) => waiting.set(node.name, resolve));
    running--;
    if (node.name.startsWith('fail')) throw new Error(`${node.name} failed`);
  };
  const nextStart = () => new Promise<void>((resolve) => (onStart = resolve));
  const release = (name: string) => {
    const resolve = waiting.get(name);
    assert.ok(resolve, `${name} is running`);
    waiting.delete(name);
    resolve();
  };
  return { runner, started, release, nextStart, peak: () => peak, running: () => [...waiting.keys()] };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('at most -j tasks run at once', async () => {
  const rig = new EngineRig();
  for (let i = 0; i < 6; i++) rig.task(`t${i}`, {});
  rig.task('all', { deps: ['t0', 't1', 't2', 't3', 't4', 't5'] });
  const gate = gatedRunner();
  const done = rig.build(['all'], { jobs: 2, runner: gate.runner });
  for (let i = 0; i < 7; i++) {
    await tick();
    for (const name of gate.running()) gate.release(name);
  }
  const { summary } = await done;
  assert.equal(summary.ran.length, 7);
  assert.equal(gate.peak(), 2);
});

test('-j0 (no limit) starts every ready task at once', async () => {
  const rig = new EngineRig();
  for (let i = 0; i < 6; i++) rig.task(`t${i}`, {});
  rig.task('all', { deps: ['t0', 't1', 't2', 't3', 't4', 't5'] });
  const gate = gatedRunner();
  const done = rig.build(['all'], { jobs: Infinity, runner: gate.runner });
  await tick();
  assert.equal(gate.running().length, 6);
  for (let i = 0; i < 3; i++) {
    for (const name of gate.running()) gate.release(name);
    await tick();
  }
  const { summary } = await done;
  assert.equal(summary.ran.length, 7);
  assert.equal(gate.peak(), 6);
});

test('independent tasks run at the same time, their dependent after both', async () => {
  const rig = new EngineRig();
  rig.task('a', {});
  rig.task('b', {});
  rig.task('c', { deps: ['a', 'b'] });
  const gate = gatedRunner();
  const done = rig.build(['c'], { jobs: 4, runner: gate.runner });
  await tick();
  assert.deepEqual(gate.running().sort(), ['a', 'b']);
  gate.release('a');
  await tick();
  assert.deepEqual(gate.running(), ['b'], 'c waits for b');
  gate.release('b');
  await tick();
  await tick();
  assert.deepEqual(gate.running(), ['c']);
  gate.release('c');
  await done;
});

test('without -k, a failure stops new tasks but waits for running ones', async () => {
  const rig = new EngineRig();
  rig.task('fail', {});
  rig.task('slow', {});
  rig.task('later', { deps: ['slow'] });
  rig.task('all', { deps: ['fail', 'later'] });
  const gate = gatedRunner();
  const done = rig.build(['all'], { jobs: 4, runner: gate.runner });
  await tick();
  gate.release('fail');
  await tick();
  gate.release('slow');
  const { summary } = await done;
  assert.deepEqual(summary.failed.map((f) => f.task), ['fail']);
  assert.deepEqual(summary.ran, ['slow'], 'the running task finished and was recorded');
  assert.deepEqual(summary.notStarted.sort(), ['all', 'later']);
  assert.ok(rig.store.get('slow'));
});

test('with -k, independent tasks go on and dependents of the failure are skipped', async () => {
  const rig = new EngineRig();
  rig.failing.add('broken');
  rig.task('broken', {});
  rig.task('needs-broken', { deps: ['broken'] });
  rig.task('needs-needs', { deps: ['needs-broken'] });
  rig.task('fine', {});
  rig.task('after-fine', { deps: ['fine'] });
  rig.task('all', { deps: ['needs-needs', 'after-fine'] });
  const { summary, reporter } = await rig.build(['all'], { keepGoing: true });
  assert.deepEqual(summary.ran.sort(), ['after-fine', 'fine']);
  assert.deepEqual(summary.failed.map((f) => f.task), ['broken']);
  assert.deepEqual(summary.skipped, [
    { task: 'needs-broken', dependency: 'broken' },
    { task: 'needs-needs', dependency: 'broken' },
    { task: 'all', dependency: 'broken' },
  ]);
  assert.equal(reporter.events.filter((e) => e.type === 'skipped').length, 3);
});

test('with one job, the task on the longest chain starts first', async () => {
  const rig = new EngineRig();
  rig.task('short', {});
  rig.task('long1', {});
  rig.task('long2', { deps: ['long1'] });
  rig.task('long3', { deps: ['long2'] });
  rig.task('all', { deps: ['short', 'long3'] });
  const { ran } = await rig.build(['all'], { jobs: 1 });
  assert.equal(ran[0], 'long1');
});

/** The most tasks of `names` that were running at once, from a log of 'start X' / 'end X' events. */
function mostAtOnce(events: readonly string[], names: ReadonlySet<string>): number {
  let running = 0;
  let most = 0;
  for (const event of events) {
    const [kind, name] = event.split(' ');
    if (!names.has(name!)) continue;
    running += kind === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

test('a pool of depth 1 runs its tasks one at a time under -j4, and the other tasks beside them', async () => {
  const rig = new EngineRig();
  const link = pool('link', 1);
  const linked = new Set(['l0', 'l1', 'l2', 'l3']);
  for (const name of linked) rig.task(name, { pool: link });
  for (let i = 0; i < 4; i++) rig.task(`c${i}`, {});
  rig.task('all', { deps: [...linked, 'c0', 'c1', 'c2', 'c3'] });
  const events: string[] = [];
  const runner: TaskRunner = async (node) => {
    events.push(`start ${node.name}`);
    await tick();
    await tick();
    events.push(`end ${node.name}`);
  };
  const { summary } = await rig.build(['all'], { jobs: 4, runner });
  assert.equal(summary.ran.length, 9);
  assert.equal(mostAtOnce(events, linked), 1, events.join(', '));
  // A task waiting for its pool holds no job: all four jobs were busy while l0 ran, three with c tasks.
  assert.equal(mostAtOnce(events, new Set(events.map((e) => e.split(' ')[1]!))), 4);
  const beforeL0Ends = events.slice(0, events.indexOf('end l0'));
  assert.deepEqual(beforeL0Ends.filter((e) => e.startsWith('start c')).length, 3, events.join(', '));
});

test('a pool of depth 2 runs two of its tasks at once, console one, whatever -j is', async () => {
  const rig = new EngineRig();
  const heavy = pool('heavy', 2);
  const pooled = new Set(['h0', 'h1', 'h2', 'h3', 'h4']);
  for (const name of pooled) rig.task(name, { pool: heavy });
  const consoles = new Set(['s0', 's1', 's2']);
  for (const name of consoles) rig.task(name, { pool: 'console' });
  rig.task('all', { deps: [...pooled, ...consoles] });
  const events: string[] = [];
  const runner: TaskRunner = async (node) => {
    events.push(`start ${node.name}`);
    await tick();
    events.push(`end ${node.name}`);
  };
  await rig.build(['all'], { jobs: 8, runner });
  assert.equal(mostAtOnce(events, pooled), 2, events.join(', '));
  assert.equal(mostAtOnce(events, consoles), 1, events.join(', '));
});

test('two pools of one name with different depths are a Taskfile error naming both tasks', () => {
  const rig = new EngineRig();
  rig.task('a', { pool: pool('link', 1) });
  rig.task('b', { pool: pool('link', 2) });
  assert.throws(() => rig.graph(), /pool 'link' is declared with depth 1 \(task 'a'\) and depth 2 \(task 'b'\)/);
});

test('pool() refuses a depth that is not a whole number of at least 1, and the name console', () => {
  for (const depth of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
    assert.throws(() => pool('link', depth), (e: Error) => e instanceof TaskfileError && /pool "link" \(at .*scheduler\.test\.ts:\d+\): depth must be a whole number of at least 1/.test(e.message));
  }
  assert.throws(() => pool('console', 1), /'console' is predefined/);
  assert.throws(() => pool('no spaces', 1), /name is not valid/);
});

test('with one job, a task its finished dependency made ready goes before a waiting task on a shorter chain', async () => {
  const rig = new EngineRig();
  rig.task('short1', {});
  rig.task('short2', {});
  rig.task('long1', {});
  rig.task('long2', { deps: ['long1'] });
  rig.task('long3', { deps: ['long2'] });
  rig.task('all', { deps: ['short1', 'short2', 'long3'] });
  const { ran } = await rig.build(['all'], { jobs: 1 });
  assert.deepEqual(ran.slice(0, 2), ['long1', 'long2']);
});

test("-j1: the next task's command starts once a command has exited, before the finished task is reported done", async () => {
  const rig = new EngineRig();
  rig.task('a', {});
  rig.task('b', {});
  rig.task('c', { deps: ['a'] });
  rig.task('all', { deps: ['a', 'b', 'c'] });
  const order: string[] = [];
  const runner: TaskRunner = async (node) => {
    order.push(`run ${node.name}`);
  };
  const { reporter, summary } = await rig.build(['all'], { jobs: 1, runner });
  assert.ok(['a', 'b', 'c'].every((task) => summary.ran.includes(task)), summary.ran.join(', '));
  const done = (task: string) => reporter.events.findIndex((e) => e.type === 'done' && e.task === task);
  const started = (task: string) => reporter.events.findIndex((e) => e.type === 'start' && e.task === task);
  // a is on the longer chain (a -> c), so it runs first; b takes its slot before a is reported.
  assert.deepEqual(order.slice(0, 2), ['run a', 'run b']);
  assert.ok(started('b') < done('a'), reporter.events.map((e) => `${e.type} ${'task' in e ? e.task : ''}`).join(', '));
  // c waits for a's record: it starts only after a is done.
  assert.ok(started('c') > done('a'));
});
