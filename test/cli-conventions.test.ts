// Conventions a make, npm or go-task user guesses right: -C DIR, the Taskfile found from a
// subfolder, --init, --completion. Each test runs the real CLI as a user would.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { bin, finished, projectMaker, repo, type CliResult, type Project } from './helpers/cli-rig.ts';

const project = projectMaker(after);

/** Moves a project's file elsewhere in it (its Taskfile into a subfolder). */
function move(p: Project, from: string, to: string): void {
  fs.mkdirSync(path.dirname(p.path(to)), { recursive: true });
  fs.renameSync(p.path(from), p.path(to));
}

test('-C DIR runs the build in DIR: commands, a run\'s own relative paths and a cwd option mean DIR\'s', async () => {
  const p = project(`
const sh = (script: string, cwd?: string) => (ctx: any) => ctx.exec('sh', ['-c', script], cwd ? { cwd } : {});
const compile = task('compile', { inputs: ['src/main.c'], outputs: ['build/main.o'], run: sh('cp src/main.c build/main.o') });
const banner = task('banner', {
  deps: [compile],
  outputs: ['build/banner.txt'],
  run: async () => (await import('node:fs/promises')).writeFile('build/banner.txt', 'hello\\n'),
});
const nested = task('nested', { outputs: ['sub/out/where.txt'], run: sh('pwd > out/where.txt', 'sub') });
export default task('all', { deps: [compile, banner, nested] });
`);
  move(p, 'Taskfile.ts', 'proj/Taskfile.ts');
  p.write('proj/src/main.c', 'int main(void) { return 0; }\n');
  const result = await p.run('-C', 'proj');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('proj/build/main.o'), 'int main(void) { return 0; }\n');
  assert.equal(p.read('proj/build/banner.txt'), 'hello\n');
  assert.equal(fs.realpathSync(p.read('proj/sub/out/where.txt').trim()), fs.realpathSync(p.path('proj/sub')));
  // Nothing lands in the folder task was started from.
  assert.deepEqual(fs.readdirSync(p.dir).sort(), ['proj']);
  // And the next run from there finds everything up to date.
  const again = await p.run('-C', 'proj', '-q');
  assert.equal(again.code, 0, again.stdout + again.stderr);
});

test('a task\'s output folders exist before it runs; the outputs themselves do not, and -n makes none', async () => {
  const p = project(`
export default task('make', {
  outputs: ['deep/a/file.txt', 'dirs/tree'],
  run: async () => {
    const fs = await import('node:fs');
    if (!fs.statSync('deep/a').isDirectory() || !fs.statSync('dirs').isDirectory()) throw new Error('no output folders');
    if (fs.existsSync('dirs/tree') || fs.existsSync('deep/a/file.txt')) throw new Error('an output was made for the run');
    fs.writeFileSync('deep/a/file.txt', 'x');
    fs.mkdirSync('dirs/tree');
  },
});
`);
  const dry = await p.run('-n');
  assert.equal(dry.code, 0, dry.stderr);
  assert.ok(!p.exists('deep') && !p.exists('dirs'), '-n created a folder');
  const result = await p.run();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(p.read('deep/a/file.txt'), 'x');
  assert.ok(fs.statSync(p.path('dirs/tree')).isDirectory());
});

test('-C DIR with --taskfile FILE finds FILE in DIR, as make -C DIR -f FILE does', async () => {
  const p = project(`export default task('hello', { outputs: ['out/hello.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo hi > out/hello.txt']) });`);
  move(p, 'Taskfile.ts', 'proj/build.ts');
  const result = await p.run('-C', 'proj', '--taskfile', 'build.ts');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('proj/out/hello.txt'), 'hi\n');
});

test('run from a subfolder, task uses the nearest Taskfile.ts above, runs in its folder, and -v names it', async () => {
  const p = project(`export default task('hello', { outputs: ['out/hello.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'pwd > out/hello.txt']) });`);
  // A Taskfile further up is not the nearest one.
  move(p, 'Taskfile.ts', 'proj/Taskfile.ts');
  p.write('Taskfile.ts', 'throw new Error("the outer Taskfile was loaded");\n');
  p.write('proj/src/deep/keep.txt', '');
  const result = await p.runIn(p.path('proj/src/deep'), '-v');
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.split('\n').includes(`task: using ${p.path('proj/Taskfile.ts')}`), result.stdout);
  assert.equal(fs.realpathSync(p.read('proj/out/hello.txt').trim()), fs.realpathSync(p.path('proj')));
  assert.ok(!p.exists('proj/src/deep/out') && !p.exists('proj/src/deep/.task'), 'the build ran in the subfolder');
});

test('with no Taskfile.ts in the folder or above, the error names the starting folder (exit 2, one line)', async () => {
  const p = project('');
  fs.rmSync(p.path('Taskfile.ts'));
  p.write('a/b/keep.txt', '');
  const start = p.path('a/b');
  const result = await p.runIn(start);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `task: no Taskfile.ts in ${start} or any folder above it (use -C DIR or --taskfile FILE)\n`);
});

/** An empty project folder with this package installed as `npm install PATH-TO-IT` does: a link in node_modules, and its bin. */
function installedProject(): { dir: string; task: (...args: string[]) => Promise<CliResult> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'task-init-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { name } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string };
  fs.mkdirSync(path.join(dir, 'node_modules/.bin'), { recursive: true });
  fs.symlinkSync(repo, path.join(dir, 'node_modules', name));
  fs.symlinkSync(`../${name}/bin/task.js`, path.join(dir, 'node_modules/.bin/task'));
  // Its own local cache, inside the folder removed after the test.
  const env = { ...process.env, CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: path.join(dir, '.task-cache') };
  const task = (...args: string[]) => finished(spawn(process.execPath, [path.join(dir, 'node_modules/.bin/task'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  return { dir, task };
}

test('task --init && task: a starter Taskfile that imports the installed package by its name and builds as it is', async () => {
  const { dir, task } = installedProject();
  const init = await task('--init');
  assert.equal(init.code, 0, init.stderr);
  const { name } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string };
  assert.match(fs.readFileSync(path.join(dir, 'Taskfile.ts'), 'utf8'), new RegExp(`^import \\{ param, task \\} from '${name}';$`, 'm'));
  const build = await task();
  assert.equal(build.code, 0, build.stdout + build.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'build/hello.txt'), 'utf8'), 'hello, world\n');
  assert.match(fs.readFileSync(path.join(dir, 'build/count.txt'), 'utf8'), /^\s*2 build\/hello\.txt$/m);
  const again = await task('-q');
  assert.equal(again.code, 0, 'the starter\'s second run found work');
  const hi = await task('greeting=hi');
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(fs.readFileSync(path.join(dir, 'build/hello.txt'), 'utf8'), 'hi, world\n');
});

test('a Taskfile importing the package by name gets the engine of the task that loads it, whatever node_modules holds', async () => {
  const { name } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string };
  const p = project('');
  p.write('Taskfile.ts', `import { task } from '${name}';\nexport default task('hello', { outputs: ['hello.txt'], run: async () => (await import('node:fs/promises')).writeFile('hello.txt', 'hi\\n') });\n`);
  // Another copy of the package (another version, say) installed in the project: its tasks would
  // go where the running engine never looks.
  p.write(`node_modules/${name}/package.json`, JSON.stringify({ name, type: 'module', exports: './index.js' }));
  p.write(`node_modules/${name}/index.js`, "export function task() { throw new Error('the Taskfile got another copy of the engine'); }\n");
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(p.read('hello.txt'), 'hi\n');
});

test('task --init where a Taskfile.ts exists: exit 2, one line, the file untouched', async () => {
  const { dir, task } = installedProject();
  fs.writeFileSync(path.join(dir, 'Taskfile.ts'), 'mine\n');
  const result = await task('--init');
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `task: ${path.join(dir, 'Taskfile.ts')} exists; --init writes a new one only\n`);
  assert.equal(result.stdout, '');
  assert.equal(fs.readFileSync(path.join(dir, 'Taskfile.ts'), 'utf8'), 'mine\n');
});

const namesTaskfile = `
const port = param('port', 4000, 'the port');
const mode = param('mode', 'fast', 'how');
const build = task('build-all', { values: { port, mode }, outputs: ['built.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo > built.txt']) });
task('bench', { deps: [build], run: (ctx) => ctx.exec('true', []) });
export default build;
`;

test('task --complete-targets lists target and parameter names (NAME=), one a line, and builds nothing', async () => {
  const p = project(namesTaskfile);
  p.write('sub/keep.txt', '');
  const result = await p.runIn(p.path('sub'), '--complete-targets');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'build-all\nbench\nport=\nmode=\n');
  assert.ok(!p.exists('built.txt') && !p.exists('.task') && !p.exists('sub/.task'), 'something was built or recorded');
});

test('task --completion bash: the script, sourced in bash, completes options, targets and NAME= of the Taskfile in reach', async () => {
  const p = project(namesTaskfile);
  p.write('sub/keep.txt', '');
  // `task` on PATH, as after npm install -g or with node_modules/.bin on PATH.
  p.write('bin/task', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"\n`);
  fs.chmodSync(p.path('bin/task'), 0o755);
  const script = await p.run('--completion', 'bash');
  assert.equal(script.code, 0, script.stderr);
  p.write('completion.bash', script.stdout);
  const complete = (cwd: string, ...words: string[]) => {
    const shell = `source ${JSON.stringify(p.path('completion.bash'))}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_task_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['-c', shell], { cwd, encoding: 'utf8', env: { ...process.env, CI: '', NODE_OPTIONS: '', PATH: `${p.path('bin')}:${process.env.PATH}` } });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(complete(p.path('sub'), 'task', ''), ['bench', 'build-all', 'mode=', 'port=']);
  assert.deepEqual(complete(p.path('sub'), 'task', 'b'), ['bench', 'build-all']);
  assert.deepEqual(complete(p.dir, 'task', '-n', 'po'), ['port=']);
  assert.deepEqual(complete(p.dir, 'task', '--c'), ['--cache-dir', '--cache-mode', '--cache-url', '--clean', '--color', '--compdb', '--completion']);
  assert.ok(complete(p.dir, 'task', '-').includes('--dry-run'));
  // --graph=FORMAT: bash hands `--graph=s` over as three words.
  assert.deepEqual(complete(p.dir, 'task', '--graph', '='), ['dot', 'png', 'svg']);
  assert.deepEqual(complete(p.dir, 'task', '--graph', '=', 's'), ['svg']);
  assert.deepEqual(complete(p.dir, 'task', '--w'), ['--watch']);
  // --trace FILE: file names, not targets.
  assert.deepEqual(complete(p.dir, 'task', '--trace', 'su'), ['sub']);
  assert.deepEqual(complete(p.dir, 'task', '--color', ''), ['always', 'auto', 'never']);
  assert.deepEqual(complete(p.dir, 'task', '--cache-mode', '=', 're'), ['read', 'readwrite']);
  // Task names with ':', which bash splits words at: the part after the last ':' is completed.
  p.write('colon/Taskfile.ts', `${p.read('Taskfile.ts').split('\n')[0]}\nexport default task('app:src:main.o', { run: () => {} });\ntask('app:src:util.o', { run: () => {} });\n`);
  assert.deepEqual(complete(p.dir, 'task', '-C', 'colon', 'app', ':', 'src', ':', 'm'), ['main.o']);
  assert.deepEqual(complete(p.dir, 'task', '-C', 'colon', 'app', ':', 's'), ['src:main.o', 'src:util.o']);
  // -C on the line being completed: the Taskfile there.
  move(p, 'Taskfile.ts', 'other/Taskfile.ts');
  assert.deepEqual(complete(p.dir, 'task', '-C', 'other', 'be'), ['bench']);
  assert.ok(!p.exists('built.txt') && !p.exists('other/.task') && !p.exists('.task'), 'completing built something');
});

test('task --completion zsh and fish print their scripts, calling back into task; an unknown shell is exit 2 in one line', async () => {
  const p = project(namesTaskfile);
  const zsh = await p.run('--completion', 'zsh');
  assert.equal(zsh.code, 0, zsh.stderr);
  assert.match(zsh.stdout, /^#compdef task\n/);
  assert.match(zsh.stdout, /--complete-targets/);
  assert.match(zsh.stdout, /compadd -- .*--dry-run/);
  const fish = await p.run('--completion=fish');
  assert.equal(fish.code, 0, fish.stderr);
  assert.match(fish.stdout, /--complete-targets/);
  assert.match(fish.stdout, /^complete -c task -l dry-run$/m);
  for (const [shell, text] of [['zsh', zsh.stdout], ['fish', fish.stdout]] as const) {
    // Checked by the shell itself where it is installed.
    const check = spawnSync(shell, ['-n'], { input: text, encoding: 'utf8' });
    if (check.error === undefined) assert.equal(check.status, 0, `${shell} -n: ${check.stderr}`);
  }
  const unknown = await p.run('--completion', 'tcsh');
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "task: --completion: no script for shell 'tcsh'; one of bash, zsh, fish\n");
  assert.equal(unknown.stdout, '');
});
