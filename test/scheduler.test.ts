// Scheduling through the engine: the jobs limit, stopping after a failure, -k, critical path first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRunner } from '../src/build/execute.ts';
import { EngineRig } from './helpers/engine-rig.ts';

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
