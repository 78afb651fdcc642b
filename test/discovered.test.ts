// Discovered inputs (`ctx.discovered`, and what a depfile names) in memory: recorded after a
// successful run, compared like declared inputs on the next build, kept in the store's format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskRunner } from '../src/build/execute.ts';
import { decodeStore, encodeStore, fromPlainRecord, toPlainRecord } from '../src/state/state-codec.ts';
import { at, EngineRig } from './helpers/engine-rig.ts';

/** Two "compiles" that report the headers their source names on its first line, and a link. */
function project(): { rig: EngineRig; ran: string[]; runner: TaskRunner } {
  const rig = new EngineRig();
  rig.disk.write(at('a.c'), 'a.h common.h\nint a;');
  rig.disk.write(at('b.c'), 'common.h\nint b;');
  rig.disk.write(at('a.h'), '#define A 1');
  rig.disk.write(at('common.h'), '#define C 1');
  rig.task('a.o', { inputs: ['a.c'], outputs: ['a.o'] });
  rig.task('b.o', { inputs: ['b.c'], outputs: ['b.o'] });
  rig.task('app', { inputs: ['a.o', 'b.o'], outputs: ['app'] });
  const ran: string[] = [];
  const runner: TaskRunner = async (node, ctx) => {
    ran.push(node.name);
    const source = node.inputs[0]!;
    const text = rig.disk.read(at(source)) ?? '';
    if (node.name !== 'app') {
      const headers = text.split('\n')[0]!.split(' ');
      // A missing header fails the compile, as the compiler would.
      for (const h of headers) if (rig.disk.read(at(h)) === undefined) throw new Error(`${source}: fatal error: ${h}: No such file or directory`);
      ctx.discovered([source, ...headers]);
      rig.disk.write(node.outputs[0]!, [text, ...headers.map((h) => rig.disk.read(at(h)))].join('\n'));
    } else {
      rig.disk.write(node.outputs[0]!, node.inputs.map((i) => rig.disk.read(at(i))).join('\n'));
    }
  };
  return { rig, ran, runner };
}

test('a header edit reruns exactly the tasks that discovered it, and explain names it', async () => {
  const { rig, ran, runner } = project();
  await rig.build(['app'], { runner });
  assert.deepEqual([...ran].sort(), ['a.o', 'app', 'b.o']);
  const record = rig.store.get('a.o')!;
  assert.deepEqual([...record.parts.discovered!.keys()], ['a.h', 'common.h'], 'the declared source is not recorded twice');
  rig.disk.tick();
  ran.length = 0;
  rig.disk.write(at('a.h'), '#define A 2');
  const { reporter } = await rig.build(['app'], { runner });
  assert.deepEqual(ran, ['a.o', 'app']);
  assert.equal(reporter.reasons()['a.o'], 'discovered input a.h changed');
  rig.disk.tick();
  ran.length = 0;
  rig.disk.write(at('common.h'), '#define C 2');
  await rig.build(['app'], { runner });
  assert.deepEqual(ran.sort(), ['a.o', 'app', 'b.o']);
  rig.disk.tick();
  ran.length = 0;
  await rig.build(['app'], { runner });
  assert.deepEqual(ran, [], 'a no-op after it');
});

test('a header gone with its #include: the rerun succeeds and forgets it; gone while still included: the rerun fails', async () => {
  const { rig, ran, runner } = project();
  await rig.build(['app'], { runner });
  rig.disk.tick();
  rig.disk.remove(at('a.h'));
  rig.disk.write(at('a.c'), 'common.h\nint a;');
  ran.length = 0;
  const first = await rig.build(['app'], { runner });
  assert.deepEqual(first.summary.failed, []);
  assert.deepEqual(ran, ['a.o', 'app']);
  assert.deepEqual([...rig.store.get('a.o')!.parts.discovered!.keys()], ['common.h']);

  rig.disk.tick();
  rig.disk.remove(at('common.h'));
  ran.length = 0;
  const second = await rig.build(['app'], { runner, keepGoing: true });
  assert.match(second.reporter.reasons()['b.o']!, /discovered input common.h is gone/);
  assert.deepEqual(second.summary.failed.map((f) => f.task).sort(), ['a.o', 'b.o']);
  assert.match(second.summary.failed[0]!.error.message, /fatal error: common.h: No such file or directory/);
  assert.equal(rig.store.get('b.o'), undefined, 'no stale record is left');
});

test('a dry run names the changed header and records nothing', async () => {
  const { rig, runner } = project();
  await rig.build(['app'], { runner });
  rig.disk.tick();
  rig.disk.write(at('common.h'), 'changed');
  const dry = await rig.build(['app'], { runner, dryRun: true });
  assert.deepEqual(dry.summary.wouldRun.sort(), ['a.o', 'app', 'b.o']);
  assert.equal(dry.reporter.reasons()['b.o'], 'discovered input common.h changed');
});

test('discovered inputs survive the store file and the journal', async () => {
  const { rig, runner } = project();
  await rig.build(['app'], { runner });
  const decoded = decodeStore(JSON.parse(encodeStore(rig.store.tasks, rig.store.files)));
  assert.ok(typeof decoded !== 'string', String(decoded));
  const again = decoded.tasks.get('a.o')!;
  assert.deepEqual(again.parts.discovered, rig.store.get('a.o')!.parts.discovered);
  assert.equal(decoded.tasks.get('app')!.parts.discovered, undefined, 'a task that discovered nothing has none');
  const viaJournal = fromPlainRecord(JSON.parse(JSON.stringify(toPlainRecord(rig.store.get('a.o')!))))!;
  assert.deepEqual(viaJournal.parts.discovered, rig.store.get('a.o')!.parts.discovered);
});

test('discovered() refuses what is not a list of paths', async () => {
  const rig = new EngineRig();
  rig.task('x', {});
  const { summary } = await rig.build(['x'], { runner: async (_node, ctx) => ctx.discovered('a.h' as unknown as string[]) });
  assert.match(summary.failed[0]!.error.message, /discovered\(paths\) takes an array/);
});

test('a depfile declared as an output, or with nothing to write it, is a Taskfile error naming the task', () => {
  const rig = new EngineRig();
  rig.task('a.o', { command: ['cc'], outputs: ['a.o', 'a.d'], depfile: 'a.d' });
  assert.throws(() => rig.graph(), /task 'a\.o': depfile a\.d is also a declared output/);
  const group = new EngineRig();
  group.specs.set('g', { depfile: 'g.d' });
  assert.throws(() => group.graph(), /task 'g': depfile g\.d needs a command or run/);
  const typo = new EngineRig();
  typo.task('x', { depfile: '' });
  assert.throws(() => typo.graph(), /task 'x': depfile must be a path/);
});
