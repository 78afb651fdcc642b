// What a build measures, in memory on the fake clock: each task's start, end and -j slot, the
// summary of a slow build (slowest tasks, critical path) without waiting 5 s, the trace's events,
// and the timings log on disk (appended per build, compacted, a corrupt or torn line skipped).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import type { TaskRunner } from '../src/build/execute.ts';
import type { BuildSummary } from '../src/report/events.ts';
import { JsonReporter } from '../src/report/json-reporter.ts';
import { PlainReporter } from '../src/report/plain-reporter.ts';
import { slowBuildMs } from '../src/report/slow-build.ts';
import { traceEvents } from '../src/report/trace.ts';
import { appendTimings, parseTimingsLog, readTimingsLog, type TimingEntry } from '../src/state/timings-log.ts';
import { EngineRig } from './helpers/engine-rig.ts';

/** A runner that takes `ms[name]` of the fake clock, then writes the task's outputs (new contents each run). */
function clockRunner(rig: EngineRig, ms: Record<string, number>): TaskRunner {
  return async (node) => {
    await Promise.resolve();
    rig.disk.tick(ms[node.name] ?? 0);
    for (const out of node.outputs) rig.disk.write(out, `${node.name} at ${rig.disk.clock}`);
  };
}

/** a (3 s) and b (1 s) feed c (2.5 s); d (4 s) stands alone; all is a group over c and d. */
function chainRig(): EngineRig {
  const rig = new EngineRig();
  rig.task('a', { outputs: ['a.out'] });
  rig.task('b', { outputs: ['b.out'] });
  rig.task('c', { deps: ['a', 'b'], outputs: ['c.out'] });
  rig.task('d', { outputs: ['d.out'] });
  rig.specs.set('all', { deps: ['c', 'd'] });
  return rig;
}
const durations = { a: 3000, b: 1000, c: 2500, d: 4000 };

test('a build measures each task that ran on its clock; after more than 5 s it names the 5 slowest and the critical path', async () => {
  const rig = chainRig();
  rig.task('e', { outputs: ['e.out'] });
  rig.task('f', { outputs: ['f.out'] });
  rig.specs.set('all', { deps: ['c', 'd', 'e', 'f'] });
  // One at a time: the fake clock adds each task's time to the wall time.
  const { summary } = await rig.build(['all'], { jobs: 1, runner: clockRunner(rig, { ...durations, e: 100, f: 200 }) });
  assert.equal(summary.wallMs, 10_800);
  const measured = Object.fromEntries(summary.timings!.tasks.map((t) => [t.task, t.endMs - t.startMs]));
  assert.deepEqual(measured, { ...durations, e: 100, f: 200 });
  assert.ok(summary.timings!.tasks.every((t) => t.status === 'ran' && /^[0-9a-f]{16}$/.test(t.fingerprint)));
  const slow = summary.slowBuild!;
  assert.deepEqual(slow.slowest, [
    { task: 'd', durationMs: 4000 },
    { task: 'a', durationMs: 3000 },
    { task: 'c', durationMs: 2500 },
    { task: 'b', durationMs: 1000 },
    { task: 'f', durationMs: 200 },
  ]);
  // a -> c (5.5 s) outweighs b -> c (3.5 s) and d (4 s).
  assert.deepEqual(slow.criticalPath, [{ task: 'a', durationMs: 3000 }, { task: 'c', durationMs: 2500 }]);
  assert.equal(slow.criticalPathMs, 5500);
  assert.equal(slow.wallMs, 10_800);
});

test('the critical path links through a group, and counts only what ran in this build', async () => {
  const rig = chainRig();
  // e depends on c through the group g: a chain a -> c -> e, with g weighing nothing.
  rig.specs.set('g', { deps: ['c'] });
  rig.task('e', { deps: ['g'], outputs: ['e.out'] });
  rig.specs.set('all', { deps: ['e', 'd'] });
  const first = await rig.build(['all'], { jobs: 1, runner: clockRunner(rig, { ...durations, e: 1000 }) });
  assert.deepEqual(first.summary.slowBuild!.criticalPath.map((t) => t.task), ['a', 'c', 'e']);
  assert.equal(first.summary.slowBuild!.criticalPathMs, 6500);
  // Only b changes: b, c and e run again; a and d are up to date and weigh nothing now.
  rig.disk.tick();
  rig.specs.set('b', { outputs: ['b.out'], values: { v: 2 } });
  const { summary } = await rig.build(['all'], { jobs: 1, runner: clockRunner(rig, { b: 6000, c: 500, e: 100 }) });
  assert.deepEqual(summary.ran.sort(), ['b', 'c', 'e']);
  assert.deepEqual(summary.slowBuild!.criticalPath, [{ task: 'b', durationMs: 6000 }, { task: 'c', durationMs: 500 }, { task: 'e', durationMs: 100 }]);
  assert.equal(summary.slowBuild!.criticalPathMs, 6600);
});

test(`a build shorter than ${slowBuildMs} ms has no slow-build summary; a dry run has no timings`, async () => {
  const rig = chainRig();
  const quick = await rig.build(['all'], { jobs: 1, runner: clockRunner(rig, { a: 1000, b: 1000, c: 1000, d: slowBuildMs - 3001 }) });
  assert.equal(quick.summary.wallMs, slowBuildMs - 1);
  assert.equal(quick.summary.slowBuild, undefined);
  assert.equal(quick.summary.timings!.tasks.length, 4);
  rig.specs.set('d', { outputs: ['d.out'], values: { v: 2 } });
  const dry = await rig.build(['all'], { dryRun: true });
  assert.deepEqual(dry.summary.wouldRun, ['d']);
  assert.equal(dry.summary.timings, undefined);
});

test('tasks that run at the same time are in different -j slots (lanes), and a slot is reused only once free', async () => {
  const rig = new EngineRig();
  for (const name of ['t1', 't2', 't3', 't4', 't5']) rig.task(name, { outputs: [`${name}.out`] });
  rig.specs.set('all', { deps: ['t1', 't2', 't3', 't4', 't5'] });
  const runner: TaskRunner = async (node) => {
    rig.disk.tick(1);
    await new Promise((resolve) => setTimeout(resolve, 5 * Number(node.name.slice(1))));
    rig.disk.tick(100);
    for (const out of node.outputs) rig.disk.write(out, node.name);
  };
  const { summary } = await rig.build(['all'], { jobs: 2, runner });
  const tasks = summary.timings!.tasks;
  assert.equal(tasks.length, 5);
  assert.deepEqual([...new Set(tasks.map((t) => t.lane))].sort(), [0, 1]);
  for (const lane of [0, 1]) {
    const inLane = tasks.filter((t) => t.lane === lane).sort((x, y) => x.startMs - y.startMs);
    for (let i = 1; i < inLane.length; i++) assert.ok(inLane[i]!.startMs >= inLane[i - 1]!.endMs, `slot ${lane}: ${inLane[i - 1]!.task} and ${inLane[i]!.task} overlap`);
  }
  // The trace puts each slot in its own row (tid = slot + 1), in microseconds from the build's start.
  const { traceEvents: events } = traceEvents(summary.timings!);
  const complete = events.filter((e) => e.ph === 'X');
  assert.equal(complete.length, 5);
  for (const t of tasks) {
    const event = complete.find((e) => e.name === t.task)!;
    assert.equal(event.tid, t.lane + 1);
    assert.equal(event.ts, (t.startMs - summary.timings!.startMs) * 1000);
    assert.equal(event.dur, (t.endMs - t.startMs) * 1000);
  }
  assert.deepEqual(events.filter((e) => e.name === 'thread_name').map((e) => (e.args as Record<string, string>).name).sort(), ['slot 1', 'slot 2']);
});

class Collected extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

test('the plain display prints the slow-build summary on stderr after the counts; -q prints none; --json writes it as one event', async () => {
  const rig = chainRig();
  const { summary } = await rig.build(['all'], { jobs: 1, runner: clockRunner(rig, durations) });
  const finished: BuildSummary = { ...summary, exitStatus: 0 };
  const out = new Collected();
  const err = new Collected();
  await new PlainReporter({ out, err, mode: 'build' }).finish(finished);
  assert.equal(out.text, '');
  assert.equal(
    err.text,
    [
      'task: 4 ran (10.5s)',
      'task: slowest tasks of this 10.5s build:',
      '     4.0s  d',
      '     3.0s  a',
      '     2.5s  c',
      '     1.0s  b',
      'task: critical path 5.5s of 10.5s wall time (52%):',
      '  a (3.0s) -> c (2.5s)',
      '',
    ].join('\n'),
  );
  const quiet = new Collected();
  await new PlainReporter({ out: quiet, err: quiet, mode: 'question' }).finish(finished);
  assert.equal(quiet.text, '');
  const json = new Collected();
  const reporter = new JsonReporter({ out: json, targets: ['all'], logsDir: '/nonexistent' });
  await reporter.finish(finished);
  const events = json.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const slow = events.filter((e) => e.event === 'slow-build');
  assert.equal(slow.length, 1);
  assert.deepEqual(slow[0], { event: 'slow-build', ...summary.slowBuild });
  assert.equal(events.at(-1)!.event, 'summary');
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'timings-log-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const entry = (task: string, startMs: number, status: TimingEntry['status'] = 'ran'): TimingEntry => ({ task, startMs, endMs: startMs + 10, status, fingerprint: 'abcdef0123456789' });

test('the timings log: one append per build, read back in order; a torn last line and a corrupt line are skipped, the rest kept', () => {
  const file = path.join(tmp, 'torn.log');
  appendTimings(file, [entry('a', 1000), entry('b', 1001, 'restored')]);
  appendTimings(file, [entry('a', 2000, 'failed')]);
  assert.deepEqual(readTimingsLog(file).map((e) => `${e.task}@${e.startMs}:${e.status}`), ['a@1000:ran', 'b@1001:restored', 'a@2000:failed']);
  // A crash cut the next build's write short, and something scribbled a line into the middle.
  fs.appendFileSync(file, '3000\t30');
  const text = fs.readFileSync(file, 'utf8').split('\n');
  text.splice(2, 0, 'not a timing line at all');
  fs.writeFileSync(file, text.join('\n'));
  appendTimings(file, [entry('c', 4000, 'interrupted')]);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  assert.ok(lines.includes('3000\t30'), 'the torn line is left alone, ended by a newline');
  assert.deepEqual(readTimingsLog(file).map((e) => `${e.task}@${e.startMs}:${e.status}`), ['a@1000:ran', 'b@1001:restored', 'a@2000:failed', 'c@4000:interrupted']);
  assert.equal(parseTimingsLog(fs.readFileSync(file, 'utf8')).skipped, 2);
  assert.deepEqual(readTimingsLog(path.join(tmp, 'none.log')), []);
});

test('the timings log is compacted to the latest entry of each task once it has grown to 3 times its compacted size', () => {
  const file = path.join(tmp, 'compact.log');
  const sizes: number[] = [];
  // 2,000 builds of the same three tasks (one of them renamed half way), with a small threshold.
  for (let build = 0; build < 2000; build++) {
    const third = build < 1000 ? 'old' : 'new';
    appendTimings(file, [entry('a', build * 100), entry('b', build * 100 + 1), entry(third, build * 100 + 2)], { minBytes: 8 * 1024 });
    sizes.push(fs.statSync(file).size);
  }
  assert.ok(Math.max(...sizes) <= 8 * 1024 + 200, `the log grew to ${Math.max(...sizes)} bytes`);
  const entries = readTimingsLog(file);
  const latest = new Map(entries.map((e) => [e.task, e.startMs]));
  assert.equal(latest.get('a'), 1999 * 100);
  assert.equal(latest.get('new'), 1999 * 100 + 2);
  assert.equal(latest.get('old'), 999 * 100 + 2, 'a task not run lately keeps its latest entry');
  // Between compactions lines repeat, but never more than the threshold allows.
  assert.ok(entries.length < 8 * 1024 / 30, `${entries.length} lines`);
});
