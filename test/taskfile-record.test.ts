// The Taskfile's compiled code, recorded in .task/taskfile-code.json: a start whose modules are
// unchanged runs it without loading jiti, and nothing a user can see differs from a load through
// jiti (what imports give, which tasks run). jiti's own debug switch (JITI_DEBUG) shows whether
// jiti was loaded at all: it prints "[jiti]" lines from the moment one is made.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Project, projectMaker, repo, type CliResult } from './helpers/cli-rig.ts';

const project = projectMaker(after);

const record = (p: Project) => p.path('.task/taskfile-code.json');
const jitiLoaded = (result: CliResult) => /\[jiti\]/.test(result.stdout + result.stderr);

/** A Taskfile of several modules that imports in every way a module can: what its task writes shows what each import gave. */
function importingProject(): Project {
  const p = project(`
import fs, { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { codeInputs, task as taskByName } from 'execd-builder';
import { helper, ring } from './lib/helper.ts';

const seen = () => ({
  fsDefault: typeof fs.readFileSync,
  fsNamed: readFileSync === fs.readFileSync,
  pathNamespace: typeof nodePath.join,
  packageDefault: typeof writeFileAtomic.sync,
  apiByName: taskByName === task,
  helper: helper(),
  cycle: ring(),
});

export default task('probe', {
  // Its own code: an edit of a helper reruns it.
  inputs: codeInputs(import.meta.url, nodePath.dirname(new URL(import.meta.url).pathname)),
  outputs: ['seen.json'],
  run: async () => {
    // An import computed at run time: the record cannot know it, jiti answers it.
    const name = ['./lib', 'late.ts'].join('/');
    const { late } = await import(name);
    fs.writeFileSync('seen.json', JSON.stringify({ ...seen(), late: late() }));
  },
});
`);
  p.write('lib/helper.ts', `import { other } from './other.ts';\nexport const helper = (): string => 'helper ' + other();\nexport const ring = (): string => 'ring';\n`);
  // lib/other.ts imports lib/helper.ts back: a cycle, as CommonJS and jiti allow.
  p.write('lib/other.ts', `import { ring } from './helper.ts';\nexport const other = (): string => 'other';\nexport const viaCycle = () => ring();\n`);
  p.write('lib/late.ts', `export const late = (): string => 'late';\n`);
  fs.symlinkSync(fs.realpathSync(path.join(repo, 'node_modules')), p.path('node_modules'));
  return p;
}

/**
 * Builds the project, then starts it again: the record is written by the second plain build, the
 * first one's load having found no state folder yet; -n and --list in between write nothing.
 */
async function builtAndRecorded(p: Project): Promise<void> {
  const first = await p.run();
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(Project.ran(first), ['probe']);
  assert.ok(!fs.existsSync(record(p)), 'a load in a folder with no state folder records nothing');
  for (const mode of ['-n', '--list']) {
    assert.equal((await p.run(mode)).code, 0);
    assert.ok(!fs.existsSync(record(p)), `${mode} records nothing`);
  }
  const second = await p.run();
  assert.equal(second.code, 0, second.stderr);
  assert.ok(jitiLoaded(second), 'the load that records compiles through jiti');
  assert.ok(fs.existsSync(record(p)), 'the start after the first build records the code');
}

test('a start with unchanged modules runs the recorded code without jiti, and every task stays up to date', async () => {
  const p = importingProject();
  p.env = { JITI_DEBUG: '1' };
  await builtAndRecorded(p);
  const recorded = JSON.parse(fs.readFileSync(record(p), 'utf8')) as { modules: Record<string, unknown> };
  assert.deepEqual(Object.keys(recorded.modules).map((file) => path.relative(p.dir, file)).sort(), ['Taskfile.ts', 'lib/helper.ts', 'lib/other.ts']);

  const third = await p.run('-v');
  assert.equal(third.code, 0, third.stderr);
  // The recorded `run` has jiti's text byte for byte: its fingerprint is the same, so nothing reruns.
  assert.deepEqual(Project.ran(third), []);
  assert.ok(!jitiLoaded(third), `no jiti once the code is recorded:\n${third.stdout}`);
  assert.match(third.stderr, /nothing to do, 1 up to date/);
});

test('imports give a recorded module what they give it through jiti', async () => {
  const p = importingProject();
  p.env = { JITI_DEBUG: '1' };
  await builtAndRecorded(p);
  const throughJiti = p.read('seen.json');
  assert.deepEqual(JSON.parse(throughJiti), {
    fsDefault: 'function',
    fsNamed: true,
    pathNamespace: 'function',
    packageDefault: 'function',
    apiByName: true,
    helper: 'helper other',
    cycle: 'ring',
    late: 'late',
  });
  fs.rmSync(p.path('seen.json'));
  const recorded = await p.run('--force');
  assert.equal(recorded.code, 0, recorded.stderr);
  assert.deepEqual(Project.ran(recorded), ['probe']);
  // jiti came in only for the import computed at run time, after the Taskfile was loaded.
  assert.equal(p.read('seen.json'), throughJiti);
});

test('an edited module is compiled by jiti again, its task reruns, and the start after is recorded again', async () => {
  const p = importingProject();
  p.env = { JITI_DEBUG: '1' };
  await builtAndRecorded(p);
  const before = fs.readFileSync(record(p), 'utf8');
  p.write('lib/helper.ts', p.read('lib/helper.ts').replace("'helper '", "'edited '"));
  const edited = await p.run();
  assert.equal(edited.code, 0, edited.stderr);
  assert.ok(jitiLoaded(edited), 'a changed module is compiled by jiti');
  assert.notEqual(fs.readFileSync(record(p), 'utf8'), before);
  assert.equal(JSON.parse(p.read('seen.json')).helper, 'edited other');
  // -v always loads the Taskfile (a plain no-op may be answered from the load record without it).
  const after = await p.run('-v');
  assert.ok(!jitiLoaded(after), `recorded again:\n${after.stdout}`);
  assert.deepEqual(Project.ran(after), []);
});

test('a record that is damaged, or made for another Taskfile, is not used: jiti loads and the record is made again', async () => {
  const p = importingProject();
  p.env = { JITI_DEBUG: '1' };
  await builtAndRecorded(p);
  for (const damage of ['{ not json', JSON.stringify({ ...JSON.parse(fs.readFileSync(record(p), 'utf8')), entry: '/elsewhere/Taskfile.ts' })]) {
    fs.writeFileSync(record(p), damage);
    // Without the snapshots, the no-op loads the Taskfile (else the load record answers it unloaded).
    fs.rmSync(p.path('.task/snapshots'), { recursive: true, force: true });
    const result = await p.run();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(jitiLoaded(result), 'jiti loads');
    assert.deepEqual(Project.ran(result), []);
    assert.equal(JSON.parse(fs.readFileSync(record(p), 'utf8')).entry, p.path('Taskfile.ts'));
  }
});

test("an error thrown by a recorded module names the Taskfile's line, as through jiti", async () => {
  const p = importingProject();
  // Same source, so the record is used; the failure comes from the environment the module reads.
  p.write('Taskfile.ts', p.read('Taskfile.ts').replace("export default task('probe'", "if (process.env.PROBE_FAIL) throw new Error('probe failed on purpose');\nexport default task('probe'"));
  p.env = { JITI_DEBUG: '1' };
  await builtAndRecorded(p);
  p.env = { PROBE_FAIL: '1', JITI_DEBUG: '1' };
  const failed = await p.run();
  assert.ok(!jitiLoaded(failed), 'the record was used');
  assert.notEqual(failed.code, 0);
  const line = p.read('Taskfile.ts').split('\n').findIndex((text) => text.includes('probe failed on purpose')) + 1;
  assert.match(failed.stderr, new RegExp(`Taskfile\\.ts:${line}: probe failed on purpose`));
  assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
});
