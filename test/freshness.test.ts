// The up-to-date contract, run in memory: build, tick, edit, build again, assert what ran.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { at, EngineRig } from './helpers/engine-rig.ts';
import { outputsResult } from '../src/build/execute.ts';
import { sha256 } from '../src/base/digest.ts';
import { canonicalJson } from '../src/decide/fingerprint.ts';
import type { OutputRecord } from '../src/state/state.ts';

function chain(): EngineRig {
  const rig = new EngineRig();
  rig.disk.write(at('src/a.c'), 'int a;');
  rig.disk.write(at('src/b.c'), 'int b;');
  rig.task('compile', { inputs: ['src/a.c'], outputs: ['a.o'] });
  rig.task('other', { inputs: ['src/b.c'], outputs: ['b.o'] });
  rig.task('link', { deps: ['compile', 'other'], outputs: ['app'] });
  rig.task('all', { deps: ['link'] });
  return rig;
}

test('the first build runs everything; the second runs nothing and reads no file', async () => {
  const rig = chain();
  assert.deepEqual((await rig.build(['all'])).ran.sort(), ['all', 'compile', 'link', 'other']);
  rig.disk.tick();
  const readsBefore = rig.disk.reads;
  await rig.build(['all']); // takes the stamps of files that were too fresh to trust
  rig.disk.tick();
  const second = rig.disk.reads;
  const again = await rig.build(['all']);
  assert.deepEqual(again.ran, []);
  assert.deepEqual(again.summary.upToDate.sort(), ['all', 'compile', 'link', 'other']);
  assert.equal(rig.disk.reads, second, 'a no-op build hashes nothing');
  // The build between did hash: the files written in the first build's tick were too fresh for
  // their stamps to be trusted, as git's index does (a read counter only grows, so >= proved nothing).
  assert.ok(second > readsBefore, `the build after the first one hashes the too fresh files (reads ${readsBefore} -> ${second})`);
});

test('editing one input reruns its task and its dependents only', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src/a.c'), 'int a = 2;');
  const { ran, reporter } = await rig.build(['all']);
  assert.deepEqual(ran, ['compile', 'link']);
  assert.equal(reporter.reasons().compile, 'input src/a.c changed');
  assert.equal(reporter.reasons().link, 'dependency compile ran');
});

test('early cutoff: a rerun that produces byte-identical outputs stops there', async () => {
  const rig = chain();
  rig.contents.set('compile', () => 'same object code');
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src/a.c'), 'int a; /* a comment */');
  const { ran, summary } = await rig.build(['all']);
  assert.deepEqual(ran, ['compile']);
  assert.ok(summary.upToDate.includes('link'));
});

test('a dependency without file outputs makes its dependents run whenever it really ran', async () => {
  const rig = new EngineRig();
  rig.task('service', { values: { port: 4000 } });
  rig.task('probe', { deps: ['service'] });
  await rig.build(['probe']);
  assert.deepEqual((await rig.build(['probe'])).ran, []);
  rig.task('service', { values: { port: 4001 } });
  const { ran, reporter } = await rig.build(['probe']);
  assert.deepEqual(ran, ['service', 'probe']);
  assert.equal(reporter.reasons().service, 'value port changed: 4000 -> 4001');
});

test('a deleted output reruns its task, naming the file', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.remove(at('a.o'));
  const { ran, reporter } = await rig.build(['all']);
  assert.deepEqual(ran, ['compile']);
  assert.equal(reporter.reasons().compile, 'output a.o is missing');
});

test('an output edited by hand reruns its task; a touch with the same bytes does not', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('app'), rig.disk.read(at('app'))!); // touched: new mtime, same contents
  assert.deepEqual((await rig.build(['all'])).ran, []);
  rig.disk.tick();
  rig.disk.write(at('app'), 'hacked');
  const { ran, reporter } = await rig.build(['all']);
  assert.deepEqual(ran, ['link']);
  assert.equal(reporter.reasons().link, 'output app was modified since it was built');
});

test('a folder output is checked for existence only', async () => {
  const rig = new EngineRig();
  rig.task('rootfs', {
    outputs: ['rootfs'],
    run: async () => {},
  });
  const runner = async () => {
    rig.disk.write(at('rootfs/etc/os-release'), 'bookworm');
  };
  await rig.build(['rootfs'], { runner });
  rig.disk.write(at('rootfs/etc/os-release'), 'changed inside');
  let ran = false;
  await rig.build(['rootfs'], { runner: async () => void (ran = true) });
  assert.equal(ran, false, 'contents of a folder output are not fingerprinted');
  rig.disk.remove(at('rootfs'));
  const { reporter } = await rig.build(['rootfs'], { runner });
  assert.equal(reporter.reasons().rootfs, 'output rootfs is missing');
});

test('changing values, run source or check source reruns, naming what changed', async () => {
  const rig = new EngineRig();
  rig.task('rootfs', { values: { suite: 'bookworm', packages: ['a'] } });
  await rig.build(['rootfs']);
  rig.task('rootfs', { values: { suite: 'trixie', packages: ['a'] } });
  assert.equal((await rig.build(['rootfs'])).reporter.reasons().rootfs, 'value suite changed: "bookworm" -> "trixie"');
  rig.task('rootfs', { values: { suite: 'trixie', packages: ['a'] }, run: async () => void 'new body' });
  assert.equal((await rig.build(['rootfs'])).reporter.reasons().rootfs, 'its run function changed');
  rig.task('rootfs', { values: { suite: 'trixie', packages: ['a'] }, run: async () => void 'new body', check: () => true });
  assert.equal((await rig.build(['rootfs'])).reporter.reasons().rootfs, 'its check function changed');
});

test('a check returning false reruns the task; returning true keeps it', async () => {
  const rig = new EngineRig();
  let running = true;
  rig.task('start', { check: () => running });
  await rig.build(['start']);
  assert.deepEqual((await rig.build(['start'])).ran, []);
  running = false;
  const { ran, reporter } = await rig.build(['start']);
  assert.deepEqual(ran, ['start']);
  assert.equal(reporter.reasons().start, 'its check found the live state out of date');
});

test('each check is called once a run, whether it answers at once, with a promise, as async, or by throwing', async () => {
  const rig = new EngineRig();
  const calls: string[] = [];
  let live = true;
  const probe = (name: string) => {
    calls.push(name);
    return live;
  };
  rig.task('sync', { check: () => probe('sync') });
  rig.task('promise', { deps: ['sync'], check: () => Promise.resolve(probe('promise')) });
  rig.task('async', { deps: ['promise'], check: async () => probe('async') });
  rig.task('throws', {
    check: () => {
      if (!probe('throws')) throw new Error('probe broke');
      return true;
    },
  });
  await rig.build(['async', 'throws']);
  calls.length = 0;
  assert.deepEqual((await rig.build(['async', 'throws'])).ran, []);
  assert.deepEqual(calls.sort(), ['async', 'promise', 'sync', 'throws']);

  live = false;
  calls.length = 0;
  const { ran, reporter } = await rig.build(['async', 'throws']);
  assert.deepEqual(ran.sort(), ['async', 'promise', 'sync', 'throws']);
  // The dependents of a task that ran have a reason before their check is asked.
  assert.deepEqual(calls.sort(), ['sync', 'throws']);
  assert.equal(reporter.reasons().sync, 'its check found the live state out of date');
  assert.equal(reporter.reasons().throws, 'its check failed: probe broke');
});

test('a plain check whose promise rejects before its task is decided is that task\'s reason, not a crash', async () => {
  const rig = new EngineRig();
  rig.disk.write(at('src.txt'), 'one');
  let live = true;
  rig.task('compile', { inputs: ['src.txt'], outputs: ['out.txt'] });
  rig.task('service', { check: () => (live ? Promise.resolve(true) : Promise.reject(new Error('probe broke'))) });
  rig.task('all', { deps: ['compile', 'service'] });
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src.txt'), 'two');
  live = false;
  // -j1: compile is decided and run first; service's check has rejected long before it is decided.
  const { ran, reporter } = await rig.build(['all'], { jobs: 1 });
  assert.deepEqual(ran.sort(), ['all', 'compile', 'service']);
  assert.equal(reporter.reasons().service, 'its check failed: probe broke');
});

test('always tasks run every time; forced targets rerun but not their dependencies', async () => {
  const rig = chain();
  rig.task('smoke', { deps: ['all'], always: true });
  await rig.build(['smoke']);
  assert.deepEqual((await rig.build(['smoke'])).ran, ['smoke']);
  const forced = await rig.build(['link'], { forced: ['link'] });
  assert.deepEqual(forced.ran, ['link']);
  assert.equal(forced.reporter.reasons().link, 'forced (-f)');
});

test('a failed run leaves no record: the task runs again next time', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src/a.c'), 'int a = 3;');
  rig.failing.add('compile');
  const failed = await rig.build(['all']);
  assert.equal(failed.summary.failed[0]?.task, 'compile');
  assert.equal(rig.store.get('compile'), undefined);
  assert.ok(rig.store.get('other'), 'records of other tasks are kept');
  rig.failing.clear();
  assert.deepEqual((await rig.build(['all'])).ran, ['compile', 'link']);
});

test('a run that does not create a declared output fails, naming it', async () => {
  const rig = chain();
  rig.lazy.add('other');
  const { summary } = await rig.build(['all']);
  assert.equal(summary.failed[0]?.error.message, "task 'other' did not create its declared output b.o");
  assert.equal(rig.store.get('other'), undefined);
});

test('a missing input that no task produces is a Taskfile error naming task and file', async () => {
  const rig = new EngineRig();
  rig.task('compile', { inputs: ['src/missing.c'] });
  const { summary } = await rig.build(['compile']);
  assert.equal(summary.failed[0]?.error.message, "task 'compile': input src/missing.c does not exist, and no task declares it as an output");
});

test('folder and glob inputs cover the files under them', async () => {
  const rig = new EngineRig();
  rig.disk.write(at('execd/main.go'), 'package main');
  rig.disk.write(at('execd/go.mod'), 'module x');
  rig.task('dir', { inputs: ['execd'] });
  rig.task('glob', { inputs: ['execd/*.go'] });
  rig.task('empty', { inputs: ['nothing/*.rs'] });
  await rig.build(['dir', 'glob']);
  rig.disk.tick();
  rig.disk.write(at('execd/go.mod'), 'module y');
  const { ran } = await rig.build(['dir', 'glob']);
  assert.deepEqual(ran, ['dir']);
  rig.disk.write(at('execd/extra.go'), 'package main');
  const { reporter } = await rig.build(['dir', 'glob']);
  assert.equal(reporter.reasons().glob, 'input execd/extra.go is new');
  const empty = await rig.build(['empty']);
  assert.match(empty.summary.failed[0]?.error.message ?? '', /input pattern 'nothing\/\*\.rs' matches no file/);
});

test('a dry run names reasons, runs nothing and records nothing', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src/b.c'), 'int b = 1;');
  const dry = await rig.build(['all'], { dryRun: true });
  assert.deepEqual(dry.ran, []);
  assert.deepEqual(dry.summary.wouldRun, ['other', 'link', 'all']);
  assert.deepEqual(dry.reporter.reasons(), {
    other: 'input src/b.c changed',
    link: 'dependency other will run',
    all: 'dependency link will run',
  });
  assert.deepEqual((await rig.build(['all'])).ran, ['other', 'link']);
});

test('a dependency rebuilt by an earlier, separate invocation is named as changed', async () => {
  const rig = chain();
  await rig.build(['all']);
  rig.disk.tick();
  rig.disk.write(at('src/a.c'), 'int a = 9;');
  await rig.build(['compile']);
  const { reporter } = await rig.build(['all']);
  assert.equal(reporter.reasons().link, 'dependency compile changed since this task last ran');
});

test("a task's result is the digest of its file outputs' canonical JSON, whatever their order; none without a file", () => {
  const file = (digest: string): OutputRecord => ({ kind: 'file', size: 1, mtimeMs: 1, digest });
  const cases: Array<Array<[string, OutputRecord]>> = [
    [['/p/b.o', file('d1')], ['/p/a.o', file('d2')], ['/p/dist', { kind: 'dir' }], ['/p/\u00e9 "x"', file('d3')]],
    [['/p/out', file('d1')]],
    [['10', file('d1')], ['9', file('d2')], ['/p/a', file('d3')]],
  ];
  for (const entries of cases) {
    const files = entries.flatMap(([name, out]) => (out.kind === 'file' ? [[name, out.digest]] : []));
    assert.equal(outputsResult(new Map(entries)), sha256(canonicalJson(Object.fromEntries(files))));
  }
  assert.equal(outputsResult(new Map([['/p/dist', { kind: 'dir' }]])), undefined);
});
