// Declared commands (`command: [argv...]`) through the CLI: they build, their command lines are
// fingerprinted (a changed flag reruns exactly the tasks whose command changed, also past the
// no-op snapshot), `--explain` names the change and `-n` prints them. And the early check: a
// declared input that nothing provides stops the build before anything runs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Project, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

/** A stand-in compiler: writes its arguments and its input (the .c file) to the file after -o. */
const fakeCompiler = `out=''; src=''; all="$*"
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift;; *.c) src="$1";; esac; shift; done
{ echo "args: $all"; cat "$src"; } > "$out"
`;

/** Two objects compiled by declared commands, a's flags in a variable set by a parameter, and a link step. */
const cProject = (aFlag = '-O2', bFlag = '-O2') => `
const opt = param('opt', ${JSON.stringify(aFlag)}, 'a.o optimisation');
const cflags = [opt, '-DNAME=two words'];
const a = task('a.o', { inputs: ['a.c'], outputs: ['obj/a.o'], command: ['sh', 'cc.sh', ...cflags, '-c', 'a.c', '-o', 'obj/a.o'] });
const b = task('b.o', { inputs: ['b.c'], outputs: ['obj/b.o'], command: ['sh', 'cc.sh', ${JSON.stringify(bFlag)}, '-c', 'b.c', '-o', 'obj/b.o'] });
export default task('app', { inputs: ['obj/a.o', 'obj/b.o'], outputs: ['app'], command: [['sh', '-c', 'cat obj/a.o obj/b.o > app.tmp'], ['mv', 'app.tmp', 'app']] });
`;

function cTree(taskfile = cProject()): Project {
  const p = project(taskfile);
  p.write('cc.sh', fakeCompiler);
  p.write('a.c', 'int a;\n');
  p.write('b.c', 'int b;\n');
  return p;
}

test('a command task builds its output, commands running in order in the Taskfile folder', async () => {
  const p = cTree();
  const result = await p.run();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(Project.ran(result).sort(), ['a.o', 'app', 'b.o']);
  assert.equal(p.read('obj/a.o'), "args: -O2 -DNAME=two words -c a.c -o obj/a.o\nint a;\n");
  assert.equal(p.read('app'), "args: -O2 -DNAME=two words -c a.c -o obj/a.o\nint a;\nargs: -O2 -c b.c -o obj/b.o\nint b;\n");
  assert.equal(p.exists('app.tmp'), false, 'the second command ran after the first');
  assert.match((await p.run()).stderr, /nothing to do, 3 up to date/);
});

test('a flag change in the Taskfile reruns exactly the task whose command changed, and not its sibling', async () => {
  const p = cTree();
  assert.equal((await p.run()).code, 0);
  p.write('Taskfile.ts', p.read('Taskfile.ts').replace(cProject(), cProject('-O2', '-O3')));
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  // app reruns only if b.o's bytes changed (they did: the flag is written into it).
  assert.deepEqual(Project.ran(result), ['b.o', 'app']);
  assert.match(p.read('obj/b.o'), /args: -O3 /);
});

test('a flag held in a variable (from a parameter) used in command reruns its task: it is in the argv', async () => {
  const p = cTree();
  assert.equal((await p.run()).code, 0);
  const result = await p.run('opt=-O0');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['a.o', 'app']);
  assert.match(p.read('obj/a.o'), /args: -O0 /);
  assert.match((await p.run('opt=-O0')).stderr, /nothing to do, 3 up to date/);
});

test('--explain names the changed command line, old and new, shell-quoted', async () => {
  const p = cTree();
  assert.equal((await p.run()).code, 0);
  const result = await p.run('--explain', 'opt=-O3');
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /a\.o: out of date: command changed: sh cc\.sh -O2 '-DNAME=two words' -c a\.c -o obj\/a\.o -> sh cc\.sh -O3 '-DNAME=two words' -c a\.c -o obj\/a\.o/,
  );
  assert.match(result.stdout, /b\.o: up to date/);
});

test('-n prints the commands each task would run, shell-quoted, one a line, and runs nothing', async () => {
  const p = cTree();
  const result = await p.run('-n');
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  const at = (line: string) => {
    const index = lines.indexOf(line);
    assert.ok(index >= 0, `no line ${JSON.stringify(line)} in:\n${result.stdout}`);
    return index;
  };
  assert.equal(at("sh cc.sh -O2 '-DNAME=two words' -c a.c -o obj/a.o"), lines.findIndex((l) => l.startsWith('would run a.o:')) + 1);
  assert.equal(at('sh cc.sh -O2 -c b.c -o obj/b.o'), lines.findIndex((l) => l.startsWith('would run b.o:')) + 1);
  const app = lines.findIndex((l) => l.startsWith('would run app:'));
  assert.equal(at("sh -c 'cat obj/a.o obj/b.o > app.tmp'"), app + 1);
  assert.equal(at('mv app.tmp app'), app + 2);
  assert.equal(p.exists('obj/a.o') || p.exists('app'), false, 'nothing ran');
  assert.equal(p.exists('.task/state.json'), false, 'nothing recorded');
});

test('the no-op snapshot does not hide a command change', async () => {
  const p = cTree();
  assert.equal((await p.run()).code, 0);
  await sleep(1100); // files a snapshot covers must be a second old
  const taking = await p.run('-v');
  assert.match(taking.stdout, /^task: snapshot: taken for the next run$/m, taking.stdout);
  const answered = await p.run('-v');
  assert.match(answered.stdout, /^task: snapshot: every task up to date$/m, answered.stdout);
  const changed = await p.run('-v', 'opt=-O1');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /^task: snapshot: not used, the Taskfile changed$/m);
  assert.deepEqual(Project.ran(changed), ['a.o', 'app']);
  assert.match(p.read('obj/a.o'), /args: -O1 /);
});

test('an invalid command spec exits 2 in one line naming the task', async () => {
  const cases = [`[]`, `['cc', 3]`, `[['cc'], []]`, `'cc -c a.c'`, `[['cc'], 'x']`];
  for (const spec of cases) {
    const p = project(`export default task('compile', { outputs: ['a.o'], command: ${spec} });`);
    const result = await p.run();
    assert.equal(result.code, 2, `${spec}: ${result.stdout}${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, /task 'compile': command must be an argv \(a non-empty array of strings\) or a non-empty list of them/);
    assert.equal(p.exists('a.o'), false);
  }
});

test('a missing input that no task produces exits 2 before any task runs, naming the nearest existing folder', async () => {
  const p = project(`
const first = task('first', { outputs: ['first.txt'], command: ['sh', '-c', 'echo ran > first.txt'] });
export default task('compile', { deps: [first], inputs: ['src/lib/missing.c'], outputs: ['a.o'], command: ['cp', 'src/lib/missing.c', 'a.o'] });
`);
  p.write('src/other.c', '');
  const result = await p.run();
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /task 'compile': input src\/lib\/missing\.c does not exist, and no task declares it as an output \(nearest existing folder: src\/\)/);
  assert.deepEqual(Project.ran(result), []);
  assert.equal(p.exists('first.txt'), false, 'nothing ran');
  // -n finds it too, and an input another task produces is not a mistake.
  assert.equal((await p.run('-n')).code, 2);
  const produced = project(`
const gen = task('gen', { outputs: ['gen/x.c'], command: ['sh', '-c', 'echo x > gen/x.c'] });
export default task('use', { deps: [gen], inputs: ['gen/x.c'], outputs: ['x.o'], command: ['cp', 'gen/x.c', 'x.o'] });
`);
  const built = await produced.run();
  assert.equal(built.code, 0, built.stdout + built.stderr);
  assert.equal(produced.read('x.o'), 'x\n');
});

test("a run's ctx.stateDir is a folder of the task's own, there when the run asks for it and kept between runs; a check is only told its name", async () => {
  const p = project(`import fs from 'node:fs';
export default task('keep', {
  outputs: ['out.txt'],
  check: (ctx) => { fs.appendFileSync('check-saw.txt', String(fs.existsSync(ctx.stateDir)) + '\\n'); return false; },
  run: (ctx) => {
    const count = ctx.stateDir + '/count';
    const n = fs.existsSync(count) ? Number(fs.readFileSync(count, 'utf8')) + 1 : 1;
    fs.writeFileSync(count, String(n));
    fs.writeFileSync('out.txt', String(n));
  },
});
`);
  for (const expected of ['1', '2']) {
    const result = await p.run();
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(p.read('out.txt'), expected);
  }
  assert.equal(p.read('.task/tasks/keep/count'), '2');
  // The check is asked from the second build on (the first has no record): the run's folder, there.
  assert.equal(p.read('check-saw.txt'), 'true\n');
});

test('exec with reject: false tells a command killed by a signal by exitCode -1 and the signal', async () => {
  const p = project(`import fs from 'node:fs';
export default task('killed', {
  run: async (ctx) => fs.writeFileSync('result.json', JSON.stringify(await ctx.exec('sh', ['-c', 'kill -KILL $$'], { reject: false }))),
});
`);
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(p.read('result.json')), { stdout: '', stderr: '', exitCode: -1, signal: 'SIGKILL' });
});
