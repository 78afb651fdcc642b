// The no-op shortcut (src/decide/snapshot.ts): a run that finds everything up to date leaves a
// snapshot, the next no-op answers from it, and any change still makes the right tasks run. `-v`
// says whether the snapshot answered, and why not. Files must be a second old before a snapshot
// covers them: the first test runs the real CLI and waits that long after each change; the others
// run the CLI in-process with the disk's clock ahead of real time, which stands for the wait.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGraph } from '../src/graph/graph.ts';
import { writeSnapshot } from '../src/decide/snapshot.ts';
import type { Stat } from '../src/base/disk.ts';
import { finished, Project, projectMaker, waitForFile, type CliResult } from './helpers/cli-rig.ts';
import { FakeDisk } from './helpers/fake-disk.ts';
import { runInProcess } from './helpers/in-process-cli.ts';

const project = projectMaker(after);

const taskfile = (bCommand = 'cat a.out a.out > b.out') => `
const lower = param('lower', 'no', 'lowercase a.out');
const a = task('a', { inputs: ['a.in'], outputs: ['a.out'], values: { lower }, run: (ctx) => ctx.exec('sh', ['-c', 'tr a-z A-Z < a.in > a.out']) });
const b = task('b', { deps: [a], inputs: ['a.out'], outputs: ['b.out'], run: (ctx) => ctx.exec('sh', ['-c', ${JSON.stringify(bCommand)}]) });
export default task('all', { deps: [b] });
`;

/** Older than the racy window: the files a snapshot covers must have been left alone for a second. */
const pastRacyWindow = () => sleep(1100);

/** What `-v` says about using a snapshot, and about taking one. */
const snapshotLine = (result: CliResult) => result.stdout.match(/^task: snapshot: ((?:not used|every task).*)$/m)?.[1];
const takenLine = (result: CliResult) => result.stdout.match(/^task: snapshot: ((?:none )?taken.*)$/m)?.[1];

/** `task ARGS` in-process, the clock ahead (see the top of this file). */
const run = (p: Project, ...args: string[]) => runInProcess(p, args);
/** `task ARGS` through the real CLI, after the racy window has passed. */
const runAfterWait = async (p: Project, ...args: string[]) => {
  await pastRacyWindow();
  return p.run(...args);
};

// Counts leave out the group all (issue 14): a and b are the 2 tasks up to date.
/** Runs no-ops until one is answered by the snapshot (the first takes it); fails if none is. */
async function prime(p: Project, upToDate = 2, runner = run): Promise<void> {
  const taking = await runner(p, '-v');
  assert.equal(taking.code, 0, taking.stderr);
  assert.deepEqual(Project.ran(taking), []);
  assert.equal(takenLine(taking), 'taken for the next run', taking.stdout);
  const answered = await runner(p, '-v');
  assert.equal(snapshotLine(answered), 'every task up to date', answered.stdout);
  assert.match(answered.stderr, new RegExp(`nothing to do, ${upToDate} up to date`));
}

function builtProject(): Project {
  const p = project(taskfile());
  p.write('a.in', 'text\n');
  return p;
}

test('a no-op run takes a snapshot; the next no-ops (and -q, -n) are answered from it', async () => {
  const p = builtProject();
  const first = await p.run('-v');
  assert.deepEqual(Project.ran(first), ['a', 'b']);
  assert.equal(snapshotLine(first), 'not used, no snapshot');
  assert.equal(takenLine(first), undefined, 'a run that ran tasks takes no snapshot');
  await prime(p, 2, runAfterWait);
  assert.equal(fs.readdirSync(p.path('.task/snapshots')).length, 1);
  const question = await p.run('-q');
  assert.equal(question.code, 0);
  const dry = await p.run('-n', '-v');
  assert.equal(snapshotLine(dry), 'every task up to date');
  assert.match(dry.stderr, /nothing to do, 2 up to date/);
  assert.equal(p.read('b.out'), 'TEXT\nTEXT\n');
});

test('with a snapshot in place, each kind of change still runs the tasks it affects', async () => {
  const p = builtProject();
  await run(p);
  const changes: Array<{ what: string; change: () => void; args?: string[]; ran: string[]; miss: RegExp }> = [
    { what: 'an input edited, same size', change: () => p.write('a.in', 'tent\n'), ran: ['a', 'b'], miss: /a\.in changed/ },
    { what: 'an output deleted', change: () => fs.rmSync(p.path('b.out')), ran: ['b'], miss: /b\.out changed/ },
    // a's rerun writes a.out as it was, so b, which reads it, stays up to date (early cutoff).
    { what: 'an output edited', change: () => p.write('a.out', 'EDITED\n'), ran: ['a'], miss: /a\.out changed/ },
    { what: 'a value changed on the command line', change: () => {}, args: ['lower=yes'], ran: ['a'], miss: /the Taskfile changed/ },
    { what: "a task's run function edited", change: () => p.write('Taskfile.ts', p.read('Taskfile.ts').replace(taskfile().trim(), taskfile('cat a.out > b.out').trim())), ran: ['b'], miss: /the Taskfile changed/ },
    { what: 'a forced target', change: () => {}, args: ['-f', 'b'], ran: ['b'], miss: /./ },
  ];
  for (const { what, change, args = [], ran, miss } of changes) {
    await prime(p);
    change();
    const result = await run(p, '-v', ...args);
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
    assert.deepEqual(Project.ran(result), ran, `${what}: ${result.stdout}`);
    // -f skips the snapshot without a line; every other change names what the snapshot missed.
    if (!args.includes('-f')) assert.match(snapshotLine(result) ?? '', miss, what);
    if (args.includes('lower=yes')) {
      // Back to the default value, so that the next change starts from the same declarations.
      assert.deepEqual(Project.ran(await run(p)), ['a']);
    }
  }
  assert.equal(p.read('b.out'), 'TENT\n');
});

test('a snapshot is not used once the store changed: --clean, or a journal left by a killed run', async () => {
  const p = builtProject();
  await run(p);
  await prime(p);
  assert.equal((await run(p, '--clean')).code, 0);
  const afterClean = await run(p, '-v');
  assert.match(snapshotLine(afterClean) ?? '', /the state store changed|no snapshot/);
  assert.deepEqual(Project.ran(afterClean), ['a', 'b']);

  await prime(p);
  // What a run killed after removing b's record leaves: the removal, in the journal.
  fs.appendFileSync(p.path('.task/journal'), `${JSON.stringify({ op: 'del', task: 'b' })}\n`);
  const afterKill = await run(p, '-v');
  assert.equal(snapshotLine(afterKill), 'not used, the state store changed');
  assert.deepEqual(Project.ran(afterKill), ['b']);
});

test('other targets have their own snapshot', async () => {
  const p = builtProject();
  await run(p);
  await prime(p);
  const other = await run(p, '-v', 'a');
  assert.equal(snapshotLine(other), 'not used, no snapshot');
  assert.match(other.stderr, /nothing to do, 1 up to date/);
  assert.equal(snapshotLine(await run(p, '-v', 'a')), 'every task up to date');
  assert.equal(snapshotLine(await run(p, '-v')), 'every task up to date');
});

test('a Taskfile mistake is reported even when a snapshot exists', async () => {
  const p = builtProject();
  await run(p);
  await prime(p);
  p.write('Taskfile.ts', p.read('Taskfile.ts').replace("outputs: ['b.out'],", "outputs: ['b.out'], input: ['x'],"));
  const result = await run(p);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /task 'b': unknown field 'input' \(did you mean 'inputs'\?\)/);
});

test('a damaged snapshot is ignored', async () => {
  const p = builtProject();
  await run(p);
  await prime(p);
  const [name] = fs.readdirSync(p.path('.task/snapshots'));
  const file = `.task/snapshots/${name}`;
  const good = JSON.parse(p.read(file)) as { files: unknown[]; tasks: unknown[] };
  const damaged: Array<[string, string]> = [
    ['cut short', '{"version": 1, "files": ['],
    ['a path that is a number', JSON.stringify({ ...good, files: [42, ...good.files.slice(1)] })],
    ['a task name that is not a string', JSON.stringify({ ...good, tasks: [{}, ...good.tasks.slice(1)] })],
  ];
  for (const [what, text] of damaged) {
    p.write(file, text);
    const result = await run(p, '-v');
    assert.equal(result.code, 0, `${what}: ${result.stderr}`);
    assert.match(snapshotLine(result) ?? '', /^not used, (no snapshot|snapshot in another format)$/, what);
    assert.match(result.stderr, /nothing to do, 2 up to date/, what);
  }
});

test('no snapshot covers a glob input, or a file modified within the last second', async () => {
  const globbed = project(`export default task('a', { inputs: ['in/*.txt'], outputs: ['a.out'], run: (ctx) => ctx.exec('sh', ['-c', 'cat in/*.txt > a.out']) });`);
  globbed.write('in/1.txt', 'one\n');
  assert.equal((await run(globbed)).code, 0);
  const recent = builtProject();
  assert.equal((await run(recent)).code, 0);
  // An mtime in the future stands for "just modified" whatever the machine's speed.
  const soon = new Date(Date.now() + 60_000);
  fs.utimesSync(recent.path('a.in'), soon, soon);
  const atOnce = await run(recent, '-v');
  assert.deepEqual(Project.ran(atOnce), []);
  assert.equal(takenLine(atOnce), 'none taken, a.in was modified within the last second');

  const glob = await run(globbed, '-v');
  assert.equal(takenLine(glob), "none taken, task 'a' has a glob input");
  // A new file matching the glob is seen: no snapshot stood in the way.
  globbed.write('in/2.txt', 'two\n');
  assert.deepEqual(Project.ran(await run(globbed)), ['a']);
  assert.equal(globbed.read('a.out'), 'one\ntwo\n');
});

test('a file modified within a second before the build began is not covered, however long the build took', () => {
  const root = '/project';
  const disk = new FakeDisk();
  const startedAt = disk.clock;
  disk.write(`${root}/.task/state.json`, '{}');
  const defs = new Map([['a', { name: 'a', spec: { inputs: ['a.in'], outputs: ['a.out'] } }]]);
  const graph = buildGraph(defs, root);
  const stat = (mtimeMs: number): Stat => ({ kind: 'file', size: 1, mtimeMs, ctimeMs: mtimeMs, ino: 1 });
  // a.in was modified half a second before the build began; the build then took five seconds.
  const stats = new Map([[`${root}/a.in`, stat(startedAt - 500)], [`${root}/a.out`, stat(startedAt - 60_000)]]);
  disk.tick(5000);
  const parts = { name: 'a', runSource: '', checkSource: '', values: {}, inputs: new Map([['a.in', 'digest']]), outputs: ['a.out'], deps: new Map() };
  const records = new Map([['a', { parts, outputs: new Map([[`${root}/a.out`, { kind: 'file' as const, size: 1, mtimeMs: startedAt - 60_000, digest: 'digest' }]]), result: 'r', finishedAt: 0, durationMs: 0 }]]);
  const options = { stateDir: `${root}/.task`, targets: ['a'], tasks: defs, graph, order: ['a'], records, disk, stats, startedAt };
  assert.equal(writeSnapshot(options), 'a.in was modified within the last second');
  stats.set(`${root}/a.in`, stat(startedAt - 1500));
  assert.equal(writeSnapshot(options), undefined);
  assert.equal([...disk.files.keys()].filter((file) => file.startsWith(`${root}/.task/snapshots/`)).length, 1);
});

test('a snapshot asks the checks that answer at once, each once a run; one that says no makes its task run', async () => {
  const p = project(`
import fs from 'node:fs';
const probe = () => {
  fs.appendFileSync('asked', 'x');
  return fs.readFileSync('live', 'utf8').trim() === 'yes';
};
export default task('svc', { inputs: ['svc.in'], outputs: ['svc.out'], check: probe, run: (ctx) => ctx.exec('sh', ['-c', 'cp svc.in svc.out; echo yes > live']) });
`);
  p.write('svc.in', 'conf\n');
  p.write('live', 'yes\n');
  assert.deepEqual(Project.ran(await run(p)), ['svc']);
  await prime(p, 1);
  const asked = () => (p.exists('asked') ? p.read('asked').length : 0);
  fs.rmSync(p.path('asked'), { force: true });
  const answered = await run(p, '-v');
  assert.equal(snapshotLine(answered), 'every task up to date');
  assert.equal(asked(), 1, 'asked once');

  p.write('live', 'no\n');
  fs.rmSync(p.path('asked'));
  const down = await run(p, '-v');
  assert.equal(snapshotLine(down), "not used, task 'svc': its check does not say up to date");
  assert.deepEqual(Project.ran(down), ['svc']);
  assert.match(down.stdout, /svc: running \(its check found the live state out of date\)/);
  assert.equal(asked(), 1, 'asked once, though the snapshot asked before the build decided');
  assert.equal(p.read('live'), 'yes\n');
});

test('an input folder is covered file by file and folder by folder: an added, edited or deeper file is seen', async () => {
  const p = project(`export default task('pack', { inputs: ['src'], outputs: ['pack.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'find src -type f | sort | xargs cat > pack.txt']) });`);
  p.write('src/a.txt', 'a\n');
  p.write('src/sub/b.txt', 'b\n');
  fs.mkdirSync(p.path('src/empty'));
  assert.deepEqual(Project.ran(await run(p)), ['pack']);
  const changes: Array<[string, () => void, RegExp, string]> = [
    ['a file added to a subfolder', () => p.write('src/sub/c.txt', 'c\n'), /src\/sub changed/, 'a\nb\nc\n'],
    ['a file added to an empty folder', () => p.write('src/empty/d.txt', 'd\n'), /src\/empty changed/, 'a\nd\nb\nc\n'],
    ['a deeper file edited', () => p.write('src/sub/b.txt', 'B\n'), /src\/sub\/b\.txt changed/, 'a\nd\nB\nc\n'],
    ['a file removed', () => fs.rmSync(p.path('src/a.txt')), /src changed|src\/a\.txt changed/, 'd\nB\nc\n'],
  ];
  for (const [what, change, miss, packed] of changes) {
    await prime(p, 1);
    change();
    const result = await run(p, '-v');
    assert.match(snapshotLine(result) ?? '', miss, what);
    assert.deepEqual(Project.ran(result), ['pack'], what);
    assert.equal(p.read('pack.txt'), packed, what);
  }
});

test('no snapshot covers an input folder holding a link to no file: creating its target is seen', async () => {
  const p = project(`export default task('cat', { inputs: ['src'], outputs: ['out.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'cat src/a.txt > out.txt; if [ -f src/link.txt ]; then cat src/link.txt >> out.txt; fi']) });`);
  p.write('src/a.txt', 'a\n');
  fs.symlinkSync('../elsewhere.txt', p.path('src/link.txt'));
  assert.deepEqual(Project.ran(await run(p)), ['cat']);
  const noop = await run(p, '-v');
  assert.deepEqual(Project.ran(noop), []);
  assert.equal(takenLine(noop), 'none taken, src/link.txt is a link to no file');
  p.write('elsewhere.txt', 'new\n');
  assert.deepEqual(Project.ran(await run(p)), ['cat']);
  assert.equal(p.read('out.txt'), 'a\nnew\n');
});

test('checks that answer with a promise (async ones, or plain ones returning one) are asked together by the snapshot, at most -j at a time', async () => {
  // a's check waits (up to 1 s) until b's has been asked: asked together, b's starts while a's waits.
  const p = project(`
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
const note = (text) => fs.appendFileSync('asked', text);
const asked = (text) => fs.existsSync('asked') && fs.readFileSync('asked', 'utf8').includes(text);
const live = () => fs.readFileSync('live', 'utf8').trim() === 'yes';
const a = task('a', {
  outputs: ['a.out'],
  check: async () => {
    note('a+');
    for (let i = 0; i < 20 && !asked('b+'); i++) await sleep(50);
    note('a-');
    return live();
  },
  run: (ctx) => ctx.exec('sh', ['-c', 'echo > a.out; echo yes > live']),
});
const b = task('b', { outputs: ['b.out'], check: () => { note('b+'); return Promise.resolve(true).then((ok) => (note('b-'), ok)); }, run: (ctx) => ctx.exec('sh', ['-c', 'echo > b.out']) });
export default task('all', { deps: [a, b] });
`);
  p.write('live', 'no\n');
  assert.deepEqual(Project.ran(await run(p)).sort(), ['a', 'b']);
  await prime(p, 2);
  const asked = () => p.read('asked');
  fs.rmSync(p.path('asked'));
  const together = await run(p, '-v', '-j2');
  assert.equal(snapshotLine(together), 'every task up to date', together.stdout);
  assert.equal(asked(), 'a+b+b-a-', 'b asked while a waits');
  fs.rmSync(p.path('asked'));
  const oneAtATime = await run(p, '-v', '-j1');
  assert.equal(snapshotLine(oneAtATime), 'every task up to date', oneAtATime.stdout);
  assert.equal(asked(), 'a+a-b+b-', 'at -j1, b asked once a has answered');

  // One says no: its task runs; the build decides with the answers given, asking no check twice.
  p.write('live', 'no\n');
  fs.rmSync(p.path('asked'));
  const down = await run(p, '-v', '-j2');
  assert.equal(snapshotLine(down), "not used, task 'a': its check does not say up to date");
  assert.deepEqual(Project.ran(down), ['a']);
  assert.match(down.stdout, /a: running \(its check found the live state out of date\)/);
  assert.equal(asked(), 'a+b+b-a-', 'each asked once');
  assert.equal(p.read('live'), 'yes\n');
});

/** One task whose async check runs `reaction` (statements) once the file `trigger` exists, and otherwise says up to date. */
const asyncCheckProject = (trigger: string, reaction: string) =>
  project(`
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default task('a', {
  outputs: ['a.out'],
  check: async () => {
    if (fs.existsSync('${trigger}')) { ${reaction} }
    return true;
  },
  run: (ctx) => ctx.exec('sh', ['-c', 'echo >> a.out']),
});
`);

// Waiting for the check instead would hang the test past its timeout.
test('Ctrl-C while the snapshot waits for an async check exits 130 at once, and runs nothing', { timeout: 60_000 }, async () => {
  // The check hangs for ten minutes once 'slow' exists, and ignores the signal it is given.
  const p = asyncCheckProject('slow', "fs.writeFileSync('waiting', ''); await sleep(600_000);");
  assert.deepEqual(Project.ran(await run(p)), ['a']);
  await prime(p, 1);
  p.write('slow', '');
  const child = p.spawn(['-v']);
  const result = finished(child);
  await waitForFile(p.path('waiting'));
  child.kill('SIGINT');
  const interrupted = await result;
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.deepEqual(Project.ran(interrupted), []);
  assert.equal(p.read('a.out'), '\n', 'the task did not run again');
});

test('an async check that throws, asked by the snapshot, makes its task run, saying why', async () => {
  const p = asyncCheckProject('broken', "throw new Error('the probe could not reach the service');");
  assert.deepEqual(Project.ran(await run(p)), ['a']);
  await prime(p, 1);
  p.write('broken', '');
  const broken = await run(p, '-v');
  assert.equal(snapshotLine(broken), "not used, task 'a': its check does not say up to date");
  assert.equal(broken.code, 0, broken.stderr);
  assert.deepEqual(Project.ran(broken), ['a']);
  assert.match(broken.stdout, /a: running \(its check failed: the probe could not reach the service\)/);
});
