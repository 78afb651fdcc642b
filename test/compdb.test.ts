// `task --compdb`: compile_commands.json for the declared commands that compile, as
// `ninja -t compdb` writes it.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

// Three objects, a link, a generator with a shell's -c, and one with -c but no source.
const taskfile = `
const sources = ['main', 'util', 'io'];
const objects = sources.map((name) =>
  task(\`obj-\${name}\`, {
    inputs: [\`src/\${name}.c\`],
    outputs: [\`obj/\${name}.o\`],
    command: ['cc', '-O2', '-Iinclude', '-c', \`src/\${name}.c\`, '-o', \`obj/\${name}.o\`],
  }),
);
task('gen', { outputs: ['gen.h'], command: ['sh', '-c', 'echo "#define X 1" > gen.h'] });
task('odd', { command: ['tool', '-c', 'config.ini'] });
export default task('app', { deps: objects, outputs: ['app'], command: ['cc', '-o', 'app', ...sources.map((n) => \`obj/\${n}.o\`)] });
`;

test('--compdb prints valid JSON with one entry per object: directory, arguments, file, output', async () => {
  const p = project(taskfile);
  const run = await p.run('--compdb');
  assert.equal(run.code, 0, run.stderr);
  const entries = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    entries.map((e) => e.file),
    ['src/main.c', 'src/util.c', 'src/io.c'],
  );
  for (const entry of entries) {
    assert.equal(entry.directory, p.dir);
    const name = String(entry.file).slice(4, -2);
    assert.deepEqual(entry.arguments, ['cc', '-O2', '-Iinclude', '-c', `src/${name}.c`, '-o', `obj/${name}.o`]);
    assert.equal(entry.output, `obj/${name}.o`);
  }
  assert.equal(run.stderr, '');
});

test('--compdb TARGET lists the compiles of the targets and their dependencies only', async () => {
  const p = project(taskfile);
  const one = JSON.parse((await p.run('--compdb', 'obj-util')).stdout) as Array<{ file: string }>;
  assert.deepEqual(one.map((e) => e.file), ['src/util.c']);
  const all = JSON.parse((await p.run('--compdb', 'app')).stdout) as Array<{ file: string }>;
  assert.equal(all.length, 3);
});

test('--compdb with an unknown target is one line with a suggestion, exit 2; nothing on stdout', async () => {
  const p = project(taskfile);
  const run = await p.run('--compdb', 'ap');
  assert.equal(run.code, 2);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^task: unknown task 'ap' \(did you mean 'app'\?\)\n$/);
});

test('--compdb is completed by the shells and refused beside --clean and --json', async () => {
  const p = project(taskfile);
  for (const shell of ['bash', 'zsh', 'fish']) {
    const script = await p.run('--completion', shell);
    assert.match(script.stdout, /compdb/, shell);
  }
  for (const other of ['--clean', '--json']) {
    const run = await p.run('--compdb', other);
    assert.equal(run.code, 2, other);
    assert.match(run.stderr, /--compdb|--json/);
  }
});
