// The no-op answered without loading the Taskfile (src/cli/quick-no-op.ts, src/decide/load-record.ts):
// through the real CLI, with a Taskfile that counts its own loads in a file, so a test can see
// whether it was evaluated. Whenever something it read changes, the next run loads it again and
// builds what the change declares.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { projectMaker, repo, type Project } from './helpers/cli-rig.ts';

const project = projectMaker(after);

// bin/task.js answers from the records only when it runs the bundle (dist/ newer than every
// src/**/*.ts, as `npm test` makes it): run from src/, the engine keeps no load record.
const { bundleIsCurrent } = createRequire(import.meta.url)('../bin/bundle-state.js') as { bundleIsCurrent(root: string): boolean };
const skip = bundleIsCurrent(repo) ? false : 'dist/ is older than src/: run `npm run build` first';

/** Older than the racy window: a file the records cover must have been left alone for a second. */
const pastRacyWindow = () => sleep(1100);

const taskfile = `
import fs from 'node:fs';
import { suffix } from './lib.ts';
fs.appendFileSync('loads.log', 'load\\n');
const greeting = process.env.GREETING ?? 'hello';
const names = fs.readFileSync('names.txt', 'utf8').trim().split('\\n');
const extra = fs.existsSync('extra.flag') ? ' +extra' : '';
export default task('greet', {
  outputs: ['out.txt'],
  command: [['sh', '-c', 'printf "%s\\\\n" "$@" > out.txt', 'sh', ...names.map((name) => greeting + ' ' + name + suffix + extra)]],
});
`;

function makeProject(): Project {
  const p = project(taskfile);
  p.write('lib.ts', "export const suffix = '!';\n");
  p.write('names.txt', 'ann\nbob\n');
  return p;
}

const loads = (p: Project) => p.read('loads.log').split('\n').filter(Boolean).length;

/** Builds, then settles: after the racy window a no-op takes the snapshot and the load record. */
async function settle(p: Project): Promise<void> {
  await pastRacyWindow();
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /nothing to do, 1 up to date/);
}

test('a no-op after a settled build answers without loading the Taskfile, and says what a full no-op says', { skip }, async () => {
  const p = makeProject();
  await pastRacyWindow();
  assert.equal((await p.run()).code, 0);
  assert.equal(p.read('out.txt'), 'hello ann!\nhello bob!\n');
  await settle(p);
  const before = loads(p);
  const quick = await p.run();
  assert.equal(quick.code, 0, quick.stderr);
  assert.match(quick.stderr, /^task: nothing to do, 1 up to date \(\d+ms\)\n$/);
  assert.equal(loads(p), before, 'the Taskfile was not loaded');
  // Options that print more than a no-op (or decide afresh) always load it.
  for (const args of [['-v'], ['-n'], ['--json'], ['-f']]) {
    const loaded = loads(p);
    assert.equal((await p.run(...args)).code, 0);
    assert.equal(loads(p), loaded + 1, `task ${args.join(' ')} loads the Taskfile`);
  }
});

test('a changed environment variable, file or module the Taskfile read makes the next run load it and build the change', { skip }, async () => {
  const p = makeProject();
  await pastRacyWindow();
  await p.run();
  await settle(p);

  // An environment variable it read.
  p.env.GREETING = 'hi';
  let result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('out.txt'), 'hi ann!\nhi bob!\n');

  // A file it read.
  await settle(p);
  let before = loads(p);
  assert.match((await p.run()).stderr, /nothing to do/);
  assert.equal(loads(p), before, 'answered from the records');
  p.write('names.txt', 'ann\ncy\n');
  result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('out.txt'), 'hi ann!\nhi cy!\n');

  // A module it imports.
  await settle(p);
  before = loads(p);
  assert.match((await p.run()).stderr, /nothing to do/);
  assert.equal(loads(p), before, 'answered from the records');
  p.write('lib.ts', "export const suffix = '?';\n");
  result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('out.txt'), 'hi ann?\nhi cy?\n');

  // A file it asked about that did not exist then.
  await settle(p);
  p.write('extra.flag', '');
  result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('out.txt'), 'hi ann? +extra\nhi cy? +extra\n');
});

test('an edited output is rebuilt by a run the records would otherwise answer', { skip }, async () => {
  const p = makeProject();
  await pastRacyWindow();
  await p.run();
  await settle(p);
  p.write('out.txt', 'tampered\n');
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('out.txt'), 'hello ann!\nhello bob!\n');
});

test('a Taskfile that runs a command or lists the environment while loading is loaded every time', { skip }, async () => {
  for (const line of ["import { execFileSync } from 'node:child_process';\nexecFileSync('true');", 'Object.keys(process.env);']) {
    const p = project(`import fs from 'node:fs';\n${line}\nfs.appendFileSync('loads.log', 'load\\n');\nexport default task('t', { outputs: ['o'], command: [['touch', 'o']] });\n`);
    await pastRacyWindow();
    await p.run();
    await pastRacyWindow();
    await p.run();
    const before = loads(p);
    const result = await p.run();
    assert.match(result.stderr, /nothing to do, 1 up to date/);
    assert.equal(loads(p), before + 1, `loaded again: ${line}`);
  }
});
