// Timings through the CLI: `--trace FILE` (Chrome trace-event JSON), the timings log in .task/
// kept across runs, and the summary after a slow build, made slow by a disk clock that runs 100
// times faster than real time (no test waits 5 s).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { realDisk, type Disk } from '../src/base/disk.ts';
import { readTimingsLog } from '../src/state/timings-log.ts';
import { projectMaker } from './helpers/cli-rig.ts';
import { runInProcess } from './helpers/in-process-cli.ts';

const project = projectMaker(after);

// a and b can run side by side; c needs both.
const taskfile = `
const a = task('a', { inputs: ['a.txt'], outputs: ['out/a'], command: ['sh', '-c', 'sleep 0.3; cp a.txt out/a'] });
const b = task('b', { outputs: ['out/b'], command: ['sh', '-c', 'sleep 0.3; echo b > out/b'] });
const c = task('c', { deps: [a, b], outputs: ['out/c'], command: ['sh', '-c', 'cat out/a out/b > out/c'] });
export default task('all', { deps: [c] });
`;

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

test('--trace FILE writes Chrome trace-event JSON: a row per -j slot, parallel tasks in different rows, up-to-date tasks as instants', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  const result = await p.run('-j', '2', '--trace', 'trace.json');
  assert.equal(result.code, 0, result.stderr);
  const trace = JSON.parse(p.read('trace.json')) as { traceEvents: TraceEvent[] };
  const ran = new Map(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => [e.name, e]));
  assert.deepEqual([...ran.keys()].sort(), ['a', 'b', 'c']);
  const [a, b, c] = [ran.get('a')!, ran.get('b')!, ran.get('c')!];
  assert.notEqual(a.tid, b.tid, 'a and b ran at the same time, in two slots');
  // Microseconds: each slept 0.3 s; c started after both ended.
  assert.ok(a.dur! >= 300_000 && b.dur! >= 300_000, `durations ${a.dur}, ${b.dur}`);
  assert.ok(c.ts >= Math.max(a.ts + a.dur!, b.ts + b.dur!));
  assert.ok(trace.traceEvents.every((e) => e.pid === 1 && Number.isInteger(e.ts ?? 0)));
  assert.equal(a.cat, 'ran');
  assert.match(String(a.args?.fingerprint), /^[0-9a-f]{16}$/);

  // The trace goes where it was asked from (a subfolder), and a no-op build traces its decisions.
  fs.mkdirSync(p.path('sub'));
  const again = await p.runIn(p.path('sub'), '--trace', 'noop.json');
  assert.equal(again.code, 0, again.stderr);
  const noop = JSON.parse(p.read('sub/noop.json')) as { traceEvents: TraceEvent[] };
  assert.deepEqual(noop.traceEvents.filter((e) => e.ph === 'i').map((e) => `${e.name}:${e.cat}`).sort(), ['a:up-to-date', 'b:up-to-date', 'c:up-to-date']);
  assert.equal(noop.traceEvents.filter((e) => e.ph === 'X').length, 0);
});

test('--trace into a folder that does not exist, onto a folder, or with a mode that runs nothing: one line, exit 2, nothing run', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  fs.mkdirSync(p.path('adir'));
  for (const [args, message] of [
    [['--trace', 'no/such/trace.json'], /^task: --trace \S+no\/such\/trace\.json: no folder \S+no\/such\n$/],
    [['--trace', 'adir'], /^task: --trace \S+adir: is a folder\n$/],
    [['--trace', 't.json', '-n'], /^task: --trace cannot be combined with -n: it runs nothing, so there is nothing to trace\n$/],
    [['-q', '--trace', 't.json'], /^task: --trace cannot be combined with -q: it runs nothing, so there is nothing to trace\n$/],
  ] as const) {
    const result = await p.run(...args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stdout, '');
  }
  assert.equal(p.exists('.task'), false, 'nothing ran');
  assert.equal(p.exists('t.json'), false);
});

test('the timings log in .task/ keeps a line per task run, build after build, and a torn line does not stop it', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  assert.equal((await p.run()).code, 0);
  const first = readTimingsLog(p.path('.task/timings.log'));
  assert.deepEqual(first.map((e) => `${e.task}:${e.status}`).sort(), ['a:ran', 'b:ran', 'c:ran']);
  for (const e of first) assert.ok(e.endMs - e.startMs >= (e.task === 'c' ? 0 : 300), `${e.task} took ${e.endMs - e.startMs} ms`);
  // A no-op adds nothing; a crash left half a line; an edit of a.txt runs a and c again.
  assert.equal((await p.run()).code, 0);
  assert.equal(readTimingsLog(p.path('.task/timings.log')).length, 3);
  fs.appendFileSync(p.path('.task/timings.log'), '1790000000000\t17900');
  p.write('a.txt', 'a, edited\n');
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  const all = readTimingsLog(p.path('.task/timings.log'));
  assert.deepEqual(all.slice(3).map((e) => e.task).sort(), ['a', 'c']);
  // a's fingerprint names what it ran with: a.txt changed, so it differs; the second run is later.
  const runsOfA = all.filter((e) => e.task === 'a');
  assert.notEqual(runsOfA[0]!.fingerprint, runsOfA[1]!.fingerprint);
  assert.ok(runsOfA[1]!.startMs >= runsOfA[0]!.endMs);
});

test('tasks restored from the cache are logged and traced as restored', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  assert.equal((await p.run()).code, 0);
  // A fresh checkout of the same sources: the project's local cache holds every output.
  fs.rmSync(p.path('out'), { recursive: true });
  fs.rmSync(p.path('.task'), { recursive: true });
  const result = await p.run('--trace', 'trace.json');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(readTimingsLog(p.path('.task/timings.log')).map((e) => `${e.task}:${e.status}`).sort(), ['a:restored', 'b:restored', 'c:restored']);
  const trace = JSON.parse(p.read('trace.json')) as { traceEvents: TraceEvent[] };
  assert.deepEqual(trace.traceEvents.filter((e) => e.ph === 'X').map((e) => `${e.name}:${e.cat}`).sort(), ['a:restored', 'b:restored', 'c:restored']);
});

/** The real disk with a clock that runs 100 times faster: a build of half a second takes 50 s by it. */
function fastClock(): Disk {
  const origin = Date.now();
  return { ...realDisk, now: () => origin + 5000 + (Date.now() - origin) * 100 };
}

test('a build that took longer than 5 s ends with the slowest tasks and the critical path on stderr; --json as one event; not under 5 s', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  // In-process, the CLI sees this process's environment: no cache, so none of the user's is touched.
  const result = await runInProcess(p, ['--progress=plain', '-j', '2', '--cache-mode=off'], fastClock());
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^task: 3 ran \(\S+\)\ntask: slowest tasks of this \S+ build:\n(  +\S+  [abc]\n){3}task: critical path \S+ of \S+ wall time \(\d+%\):\n  (a|b) \(\S+\) -> c \(\S+\)\n$/m);
  assert.doesNotMatch(result.stdout, /slowest|critical path/);

  p.write('a.txt', 'a, edited\n');
  const json = await runInProcess(p, ['--json', '--cache-mode=off'], fastClock());
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const slow = events.filter((e) => e.event === 'slow-build');
  assert.equal(slow.length, 1);
  const { slowest, criticalPath, criticalPathMs, wallMs } = slow[0] as { slowest: Array<{ task: string }>; criticalPath: Array<{ task: string }>; criticalPathMs: number; wallMs: number };
  assert.deepEqual(slowest.map((t) => t.task).sort(), ['a', 'c']);
  assert.deepEqual(criticalPath.map((t) => t.task), ['a', 'c']);
  assert.ok(criticalPathMs <= wallMs && criticalPathMs > 0);
  assert.equal(events.at(-1)!.event, 'summary');

  // On the real clock the same build is well under 5 s: no summary.
  p.write('a.txt', 'a, edited again\n');
  const quick = await runInProcess(p, ['--progress=plain', '--cache-mode=off']);
  assert.equal(quick.code, 0, quick.stderr);
  assert.doesNotMatch(quick.stderr, /slowest|critical path/);
});
