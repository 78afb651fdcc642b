// Mistakes a user can make, each with a clear message, exit 2, and nothing recorded lost.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { Project, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

const good = `
const port = param('port', 4000, 'TCP port');
const verbose = param('loud', false, 'say more');
const rootfs = task('rootfs', { description: 'makes the rootfs', values: { port, verbose }, outputs: ['rootfs.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo $0 > rootfs.txt', String(ctx.values.port)]) });
const hosts = task('hosts', { description: 'writes hosts', deps: [rootfs], run: async () => {} });
export default task('all', { deps: [hosts] });
`;

test('a dependency cycle exits 2 naming the whole cycle', async () => {
  const p = project(`task('a', { deps: ['b'] }); task('b', { deps: ['c'] }); task('c', { deps: ['a'] }); export default 'a';`);
  const result = await p.run();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /dependency cycle: a -> b -> c -> a/);
});

test('an unknown target exits 2 with "did you mean"', async () => {
  const p = project(good);
  const result = await p.run('host');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown task 'host' \(did you mean 'hosts'\?\)/);
  assert.equal(p.exists('.task'), false, 'a mistaken command line creates nothing');
});

test('a target that names a file a task makes, a Taskfile, or a task in other letter case gets a hint', async () => {
  const p = project(`export default task('gen', { outputs: ['build/gen.txt'], command: ['true'] });`);
  const cases: Array<[string[], string]> = [
    [['build/gen.txt'], "unknown task 'build/gen.txt' (task 'gen' makes build/gen.txt: targets are task names)"],
    [['-f', 'Taskfile.ts'], "unknown task 'Taskfile.ts' (-f is --force here; another Taskfile is --taskfile FILE)"],
    [['GEN'], "unknown task 'GEN' (did you mean 'gen'?)"],
  ];
  for (const [argv, said] of cases) {
    const result = await p.run(...argv);
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `task: ${said}\n`);
  }
});

test('a number parameter takes only a number as written (not 0x10 or 1e3); a parameter declared twice differently, or with an object default, is a Taskfile error', async () => {
  const p = project(good);
  for (const text of ['0x10', '1e3', ' 5', '']) {
    const result = await p.run(`port=${text}`);
    assert.equal(result.code, 2, text);
    assert.equal(result.stderr, `task: parameter port: '${text}' is not a number (default 4000)\n`);
  }
  assert.equal((await p.run('-n', 'port=-1.5')).code, 0);
  const twice = project(`param('v', 1, 'x'); param('v', 'two', 'y');\nexport default task('a', { command: ['true'] });`);
  const declared = await twice.run();
  assert.equal(declared.code, 2);
  assert.equal(declared.stderr, 'task: parameter v is declared twice, with default 1 and "two": declare it once\n');
  const object = project(`param('o', { a: 1 } as unknown as string);\nexport default task('a', { command: ['true'] });`);
  const objected = await object.run();
  assert.equal(objected.code, 2);
  assert.equal(objected.stderr, 'task: parameter o: its default must be a string, a number or a boolean (got a value of type object)\n');
});

test('-f on a group says that it reruns nothing, since -f does not reach dependencies', async () => {
  const p = project(`const gen = task('gen', { outputs: ['gen.txt'], command: ['sh', '-c', 'echo >> runs.txt; echo > gen.txt'] });\nexport default task('all', { deps: [gen] });`);
  assert.equal((await p.run()).code, 0);
  const forced = await p.run('-f');
  assert.equal(forced.code, 0);
  assert.match(forced.stderr, /^task: warning: -f reruns the tasks named, not their dependencies, and 'all' is a group: name the tasks to rerun$/m);
  assert.equal(p.read('runs.txt'), '\n', 'gen ran once');
  assert.doesNotMatch((await p.run('-f', 'gen')).stderr, /warning/);
  assert.equal(p.read('runs.txt'), '\n\n');
});

test('an unknown parameter exits 2 with "did you mean"; a badly typed one names it', async () => {
  const p = project(good);
  const unknown = await p.run('prot=1');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown parameter 'prot' \(did you mean 'port'\?\)/);
  const typed = await p.run('port=abc');
  assert.equal(typed.code, 2);
  assert.match(typed.stderr, /parameter port: 'abc' is not a number/);
  const bool = await p.run('loud=maybe');
  assert.equal(bool.code, 2);
  assert.match(bool.stderr, /parameter loud: 'maybe' is not a boolean/);
  assert.equal((await p.run('port=4001', 'loud=true')).code, 0);
  assert.equal(p.read('rootfs.txt'), '4001\n');
});

test('a Taskfile syntax error exits 2 with its file and line', async () => {
  const p = project(`\nconst x = ;\n`);
  const result = await p.run();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Taskfile\.ts: Taskfile\.ts:3: syntax error: Unexpected token/);
});

test('a Taskfile that throws exits 2 with its file and line', async () => {
  const p = project(`\n\nthrow new Error('no such suite');\n`);
  const result = await p.run();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Taskfile\.ts: Taskfile\.ts:4: no such suite/);
});

test('a Taskfile that declares nothing, or exports no default, says so', async () => {
  const empty = await project('export {};').run();
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /declares no tasks/);
  const noDefault = await project(`task('only', {});`).run();
  assert.equal(noDefault.code, 2);
  assert.match(noDefault.stderr, /has no default export; name a target: only/);
});

test('a module the Taskfile imports that does not exist is one line naming it and its importer; a --taskfile that is a folder says so', async () => {
  const p = project(`import { nope } from './nope.ts';\nexport default task('a', { values: { nope }, command: ['true'] });\n`);
  const missing = await p.run();
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `task: ${p.path('Taskfile.ts')}: Cannot find module './nope.ts' (imported by Taskfile.ts)\n`);
  p.write('sub/x.txt', '');
  const folder = await p.run('--taskfile', 'sub');
  assert.equal(folder.code, 2);
  assert.equal(folder.stderr, `task: --taskfile ${p.path('sub')} is a folder: give the Taskfile in it, or -C ${p.path('sub')}\n`);
});

test('values that are not JSON data (a cycle, a Date) exit 2 naming the place, not an internal error', async () => {
  const p = project(`const o: Record<string, unknown> = { list: [1] }; o.self = o;\nexport default task('a', { values: { o }, command: ['true'] });\n`);
  const cycle = await p.run();
  assert.equal(cycle.code, 2, cycle.stderr);
  assert.equal(cycle.stderr, "task: task 'a': values must be a plain object of JSON data (values.o.self is a circular reference)\n");
  p.write('Taskfile.ts', p.read('Taskfile.ts').replace('{ o }', '{ when: [new Date(0)] }'));
  const date = await p.run();
  assert.equal(date.code, 2);
  assert.equal(date.stderr, "task: task 'a': values must be a plain object of JSON data (values.when[0] is a Date)\n");
});

test('a missing Taskfile exits 2 naming the folder; a -C folder that does not exist says so', async () => {
  const p = project('');
  p.write('empty/x.txt', '');
  const result = await p.run('-C', 'empty');
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `task: no Taskfile.ts in ${p.path('empty')} (use -C DIR or --taskfile FILE)\n`);
  const nowhere = await p.run('-C', 'nowhere');
  assert.equal(nowhere.code, 2);
  assert.equal(nowhere.stderr, `task: no folder ${p.path('nowhere')} (-C)\n`);
});

test('two tasks declaring one output, or one name twice, exit 2', async () => {
  const clash = await project(`task('a', { outputs: ['x'] }); export default task('b', { outputs: ['x'] });`).run();
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /tasks 'a' and 'b' both declare the output x/);
  const twice = await project(`task('a', {});\nexport default task('a', {});`).run();
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /task 'a' is declared twice \(again at .*Taskfile\.ts:3\)/);
});

test('a missing input that nothing produces exits 2 before the build, naming task and file', async () => {
  const p = project(`export default task('compile', { inputs: ['main.c'], run: async () => {} });`);
  const result = await p.run();
  assert.equal(result.code, 2);
  assert.match(result.stderr, /task 'compile': input main\.c does not exist, and no task declares it as an output \(nearest existing folder: \.\/\)/);
});

test('a glob input that matches nothing, and that no declared output could match, exits 2 before the build, -n too', async () => {
  const p = project(`
const gen = task('gen', { outputs: ['gen/version.h'], run: (ctx) => ctx.exec('sh', ['-c', 'mkdir -p gen && echo 1 > gen/version.h']) });
const early = task('early', { outputs: ['early.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo > early.txt']) });
export default task('compile', { deps: [gen, early], inputs: ['gen/*.h', 'src/*.c'], run: async () => {} });
`);
  for (const flags of [[], ['-n']]) {
    const result = await p.run(...flags);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, "task: task 'compile': input pattern 'src/*.c' matches no file, and no task declares an output it could match\n");
    assert.equal(fs.existsSync(p.path('early.txt')), false, 'nothing ran');
  }
  // gen/*.h matches nothing yet either, but gen's output will give it a match: -n says compile
  // would run, and the build goes on.
  fs.mkdirSync(p.path('src'));
  fs.writeFileSync(p.path('src/main.c'), 'int main;\n');
  const dry = await p.run('-n');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would run compile: /m);
  const built = await p.run();
  assert.equal(built.code, 0, built.stderr);
});

test('only an output that could match a glob defers its check: one beside the matches, or the task\'s own, does not', async () => {
  for (const pattern of ['gen/*.h', './gen/*.h', '*/*.h']) {
    const p = project(`
const gen = task('gen', { outputs: ['gen/notes.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'mkdir -p gen && echo > gen/notes.txt']) });
export default task('compile', { deps: [gen], inputs: ['${pattern}'], outputs: ['out.txt'], run: async () => {} });
`);
    const result = await p.run('-n');
    assert.equal(result.code, 2, `${pattern}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`input pattern '${pattern.replaceAll('*', '\\*')}' matches no file, and no task declares an output it could match`));
  }
});

test('errors keep what is recorded: a later good run finds it up to date', async () => {
  const p = project(good);
  assert.equal((await p.run()).code, 0);
  assert.equal((await p.run('nope')).code, 2);
  assert.equal((await p.run('port=x')).code, 2);
  const result = await p.run();
  assert.match(result.stderr, /nothing to do, 2 up to date/, "the group is not counted");
});

test('an unknown option exits 2 with a suggestion', async () => {
  const result = await project(good).run('--expain');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown option --expain \(did you mean '--explain'\?\)/);
});
