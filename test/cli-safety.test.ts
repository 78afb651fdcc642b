// The command line never destroys by surprise (issue 14, "Safety"): --clean and what it refuses,
// teardown before removal, interrupts under the live display, a user without root, options and
// parameters given wrongly, and exec's arguments checked at the call.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadState } from '../src/state/state.ts';
import { Project, alive, bin, finished, projectMaker, repo, waitForFile, type CliResult } from './helpers/cli-rig.ts';

const project = projectMaker(after);
const temporary: string[] = [];
after(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const recorded = (dir: string) => [...loadState(path.join(dir, '.task'), { journal: false }).tasks.keys()].sort();

/** Every file, folder and link under `dir`, relative to it (links not followed). */
function tree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

/** Runs the CLI under a pseudo-terminal (script(1)), as a user at a terminal would; `-e` passes its exit status on. */
function spawnOnTerminal(p: Project, args: string, env: Record<string, string> = {}) {
  return spawn('script', ['-qefc', `stty cols 80 rows 24; ${process.execPath} ${bin} ${args}`, '/dev/null'], {
    cwd: p.dir,
    env: { ...process.env, CI: '', NODE_OPTIONS: '', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

const layered = `
import fs from 'node:fs';
// base makes a folder; service "runs" from it (a file outside any output stands for the running
// container) and can tear itself down; report depends on service and has no clean step.
const base = task('base', { outputs: ['base'], run: (ctx) => ctx.exec('sh', ['-c', 'mkdir -p base && echo rootfs > base/file']) });
const config = task('config', { outputs: ['config.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo config > config.txt']) });
const service = task('service', {
  deps: [base, config],
  run: (ctx) => ctx.exec('sh', ['-c', 'echo running > service.running']),
  clean: async (ctx) => {
    if (fs.existsSync('service.fails')) await ctx.exec('sh', ['-c', 'echo cannot stop; exit 3']);
    fs.appendFileSync('teardown.log', 'service stopped; base ' + (fs.existsSync('base/file') ? 'still there' : 'GONE') + '\\n');
    fs.rmSync('service.running', { force: true });
  },
});
const report = task('report', { deps: [service], outputs: ['report.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo report > report.txt']) });
export default task('all', { deps: [report] });
`;

test('--clean -n lists each removal and teardown and changes nothing', async () => {
  const p = project(layered);
  assert.equal((await p.run()).code, 0);
  const store = p.read('.task/state.json');
  const before = tree(p.dir);
  const dry = await p.run('--clean', '-n', 'base');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout, 'would tear down service (its clean step)\nwould forget service\nwould remove base\nwould forget base\n');
  assert.deepEqual(tree(p.dir), before, 'nothing was removed or created');
  assert.equal(p.read('.task/state.json'), store);
  assert.equal(p.exists('teardown.log'), false, 'no clean step ran');
  const all = await p.run('--dry-run', '--clean');
  assert.match(all.stdout, /^would remove report\.txt$/m);
  assert.match(all.stdout, /^would remove config\.txt$/m);
  assert.deepEqual(tree(p.dir), before);
});

test('--clean with a mode that promises to change nothing, or with -f or -k, is refused before anything happens', async () => {
  const p = project(layered);
  for (const flag of ['-q', '--explain', '--graph', '--list', '-f', '-k', '-nq']) {
    const result = await p.run('--clean', flag, 'base');
    assert.equal(result.code, 2, `--clean ${flag}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^task: --clean cannot be combined with -[a-z-]+: [^\n]+\n$/, `one line for --clean ${flag}`);
    assert.equal(p.exists('.task'), false, `--clean ${flag} created nothing`);
  }
  assert.equal((await p.run()).code, 0);
  const before = tree(p.dir);
  const question = await p.run('-q', '--clean');
  assert.equal(question.code, 2);
  assert.match(question.stderr, /--clean cannot be combined with -q: it promises to change nothing; --clean -n shows what --clean would remove/);
  assert.deepEqual(tree(p.dir), before, 'a refused --clean removed nothing');
});

test('--clean tears down dependents with a clean step first, then removes only the named outputs', async () => {
  const p = project(layered);
  assert.equal((await p.run()).code, 0);
  const result = await p.run('--clean', 'base');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'tore down service\nforgot service\nremoved base\nforgot base\n');
  assert.equal(p.read('teardown.log'), 'service stopped; base still there\n', 'the service was stopped before its base went');
  assert.equal(p.exists('service.running'), false);
  assert.equal(p.exists('base'), false);
  assert.equal(p.exists('config.txt'), true, 'a dependency of the torn-down task is not touched');
  assert.equal(p.exists('report.txt'), true, 'a dependent without a clean step keeps its outputs');
  assert.deepEqual(recorded(p.dir), ['config', 'report']);
  assert.equal(p.exists('.task/lock'), false);
});

test('a clean step that fails stops --clean with exit 1, and nothing further is removed', async () => {
  const p = project(layered);
  assert.equal((await p.run()).code, 0);
  p.write('service.fails', '');
  const result = await p.run('--clean', 'base');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^task: task 'service': its clean step failed: command exited with code 3: sh -c .*; nothing further was removed \(log: .*service\.clean\.log\)$/m);
  assert.match(p.read('.task/logs/service.clean.log'), /cannot stop/);
  assert.equal(p.exists('base/file'), true, 'the base of a service that did not stop is kept');
  assert.deepEqual(recorded(p.dir), ['base', 'config', 'report', 'service']);
  assert.equal(p.exists('.task/lock'), false);
});

test('--clean removes nothing outside the declared outputs and the state folder', async () => {
  // The project lives in proj/; the folder around it holds a folder a link points to.
  const p = project('');
  p.write('outside/keep.txt', 'not ours\n');
  p.write('proj/src/main.c', 'int main;\n');
  p.write('proj/notes.txt', 'by hand\n');
  p.write('proj/Taskfile.ts', `import { task } from ${JSON.stringify(path.join(repo, 'src/index.ts'))};
const sh = (script: string) => (ctx: any) => ctx.exec('sh', ['-c', script]);
task('compile', { inputs: ['src/main.c'], outputs: ['build/main.o', 'build/sub'], run: sh('mkdir -p build/sub && cp src/main.c build/main.o && echo x > build/sub/x') });
// Outputs that hold the project itself (the folder, its parent) are never removed, whatever is declared.
task('greedy', { outputs: ['.', '..', 'src'], run: sh('true') });
task('link', { outputs: ['link'], run: sh('ln -sfn ../outside link') });
task('old', { outputs: ['old.out', 'kept.out'], run: sh('echo old > old.out; echo kept > kept.out') });
export default task('all', { deps: ['compile', 'greedy', 'link', 'old'] });
`);
  const dir = p.path('proj');
  assert.equal((await p.runIn(dir)).code, 0);
  // kept.out is no longer declared: it was recorded, but it is not old's to remove any more.
  p.write('proj/Taskfile.ts', p.read('proj/Taskfile.ts').replace("outputs: ['old.out', 'kept.out']", "outputs: ['old.out']"));
  const before = tree(p.dir);
  const result = await p.runIn(dir, '--clean');
  assert.equal(result.code, 0, result.stderr);
  const removed = before.filter((file) => !fs.existsSync(path.join(p.dir, file)) && !fs.lstatSync(path.join(p.dir, file), { throwIfNoEntry: false }));
  const declared = ['proj/build/main.o', 'proj/build/sub', 'proj/link', 'proj/old.out', 'proj/src'];
  for (const file of removed) {
    assert.ok(file.startsWith('proj/.task/') || declared.some((out) => file === out || file.startsWith(`${out}/`)), `${file} was removed, and it is no declared output`);
  }
  assert.ok(removed.includes('proj/build/main.o') && removed.includes('proj/link') && removed.includes('proj/old.out'));
  assert.equal(p.read('outside/keep.txt'), 'not ours\n', 'a link is removed, not what it points to');
  for (const kept of ['proj/Taskfile.ts', 'proj/notes.txt', 'proj/kept.out', 'proj/build']) assert.ok(fs.existsSync(p.path(kept)), `${kept} is kept`);
});

test('Ctrl-C while the live display runs and a command prints after SIGTERM: exit 130, no crash, lock released', async () => {
  const p = project(`
import fs from 'node:fs';
export default task('talk', {
  outputs: ['talk.out'],
  run: async (ctx) => {
    fs.writeFileSync('task.pid', String(process.pid));
    // Traps TERM and goes on printing for a second before it ends.
    await ctx.exec('sh', ['-c', 'echo $$ > child.pid; trap "for i in 1 2 3 4 5 6 7 8 9 10; do echo stopping \\$i; sleep 0.1; done; exit 0" TERM; while true; do echo tick; sleep 0.05; done']);
    fs.writeFileSync('talk.out', 'done');
  },
});
`);
  const child = spawnOnTerminal(p, 'talk');
  const done = finished(child);
  await waitForFile(p.path('child.pid'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.kill(Number(p.read('task.pid')), 'SIGINT');
  const result = await done;
  assert.equal(result.code, 130, result.stdout);
  assert.match(result.stdout, /\x1b\[\?25[lh]/, 'the live display (listr2) drew on the terminal');
  assert.doesNotMatch(result.stdout + result.stderr, /TypeError|internal error|    at /);
  assert.equal(alive(Number(p.read('child.pid'))), false, 'the command is gone');
  assert.equal(p.exists('.task/lock'), false, 'the lock is released');
  assert.deepEqual(recorded(p.dir), [], 'the interrupted task is not recorded');
  assert.equal(p.exists('talk.out'), false);
});

test('Ctrl-C during a clean step: exit 130, its command gone, the lock released, nothing further removed', async () => {
  const p = project(`
import fs from 'node:fs';
const base = task('base', { outputs: ['base.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo base > base.txt']) });
export default task('service', {
  deps: [base],
  run: async () => {},
  clean: (ctx) => ctx.exec('sh', ['-c', 'echo $$ > stopping.pid; trap "echo still stopping; sleep 0.3; exit 1" TERM; while true; do sleep 0.05; done']),
});
`);
  assert.equal((await p.run()).code, 0);
  const child = p.spawn(['--clean', 'base']);
  const done = finished(child);
  await waitForFile(p.path('stopping.pid'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGINT');
  const result = await done;
  assert.equal(result.code, 130, result.stdout + result.stderr);
  assert.equal(alive(Number(p.read('stopping.pid'))), false);
  assert.equal(p.exists('.task/lock'), false);
  assert.equal(p.exists('base.txt'), true, 'nothing is removed after an interrupted teardown');
  assert.deepEqual(recorded(p.dir), ['base', 'service'], 'an interrupted teardown keeps its record');
});

const asRoot = process.getuid?.() === 0;
const setpriv = fs.existsSync('/usr/bin/setpriv') || fs.existsSync('/bin/setpriv');
const nobodySkip = asRoot && setpriv ? false : 'needs root and setpriv to run as another user';

/** Runs `task` (the given bin/task.js) as the user nobody. */
function asNobody(cwd: string, taskBin: string, args: string[]): CliResult {
  try {
    const stdout = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, taskBin, ...args], {
      cwd,
      env: { ...process.env, CI: '', NODE_OPTIONS: '', HOME: '/nonexistent' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status: number | null; stdout: string; stderr: string };
    return { code: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test('as a user without root, task -n on the recipe: one line naming the file, no stack trace', { skip: nobodySkip }, async () => {
  // A copy of the project in a folder that user can read; root has built part of it, with the
  // outputs in a folder only root may enter (as /var/lib/machines is).
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'task-nobody-'));
  temporary.push(copy);
  fs.chmodSync(copy, 0o755);
  for (const entry of ['Taskfile.ts', 'package.json', 'tsconfig.json', 'src', 'tasks', 'bin', 'execd']) {
    fs.cpSync(path.join(repo, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(copy, 'node_modules'));
  fs.mkdirSync(path.join(copy, 'private'), { mode: 0o700 });
  const params = [`systemdDir=${copy}/private/systemd`, `hostsFile=${copy}/hosts`, `machinesDir=${copy}/private/machines`, 'machine=nobodytest', 'hostMode=standalone'];
  const asUser = (...args: string[]) => finished(spawn(process.execPath, ['bin/task.js', ...args], { cwd: copy, env: { ...process.env, CI: '', NODE_OPTIONS: '' } }));
  assert.equal((await asUser('nspawn-config', ...params)).code, 0);
  // Past the racy second, a no-op leaves a snapshot, which the next run checks first.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal((await asUser('nspawn-config', ...params)).code, 0);
  assert.equal((await asUser('nspawn-config', ...params)).code, 0);
  for (const args of [['-n', 'nspawn-config'], ['-n'], ['--explain']]) {
    const result = asNobody(copy, 'bin/task.js', [...args, ...params]);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^task 'nspawn-config' failed: cannot stat .*\/private\/systemd\/nspawn\/nobodytest\.nspawn: permission denied \(EACCES\)$/m);
    assert.doesNotMatch(result.stdout + result.stderr, /internal error|    at |\n  at /, `no stack trace for ${args.join(' ')}`);
  }
});

test('an unreadable input, or a run that cannot write, fails that task in one line naming the file', { skip: nobodySkip }, async () => {
  const p = project(`
import fs from 'node:fs';
task('digest', { inputs: ['secret.txt'], run: async () => {} });
export default task('write', { deps: ['digest'], run: async () => { fs.writeFileSync('made-by-run.txt', 'x'); } });
`);
  fs.chmodSync(p.dir, 0o755);
  p.write('secret.txt', 'root only\n');
  fs.chmodSync(p.path('secret.txt'), 0o600);
  const result = asNobody(p.dir, bin, ['-n']);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /^task 'digest' failed: cannot open .*secret\.txt: permission denied \(EACCES\)$/m);
  assert.doesNotMatch(result.stdout + result.stderr, /internal error|    at /);
  fs.chmodSync(p.path('secret.txt'), 0o644);
  const real = asNobody(p.dir, bin, ['-k']);
  assert.equal(real.code, 1);
  assert.equal(real.stderr, `task: cannot mkdir ${p.path('.task')}: permission denied (EACCES)\n`, 'a folder the user may not write: one line');
  fs.mkdirSync(p.path('.task'), { recursive: true });
  fs.chmodSync(p.path('.task'), 0o777);
  const ran = asNobody(p.dir, bin, []);
  assert.equal(ran.code, 1, ran.stdout + ran.stderr);
  // The project folder is root's: the run may not create a file in it.
  assert.match(ran.stderr, /^task 'write' failed: cannot open made-by-run\.txt: permission denied \(EACCES\) \(at Taskfile\.ts:\d+\)$/m);
  assert.doesNotMatch(ran.stdout + ran.stderr, /internal error|    at /);
});

test('a flag given a value (--force=1) is refused with exit 2', async () => {
  const p = project(`export default task('a', { run: (ctx) => ctx.exec('touch', ['ran']) });`);
  for (const arg of ['--force=1', '--dry-run=yes', '--list=', '--keep-going=0']) {
    const result = await p.run(arg);
    assert.equal(result.code, 2, arg);
    assert.equal(result.stderr, `task: option ${arg.slice(0, arg.indexOf('='))} takes no value (got ${arg})\n`);
  }
  assert.equal(p.exists('ran'), false);
  assert.equal(p.exists('.task'), false);
});

test('a parameter given twice with two values is refused naming it; twice with one value is fine', async () => {
  const p = project(`const suite = param('suite', 'bookworm', 'suite'); export default task('a', { values: { suite }, outputs: ['suite.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo $0 > suite.txt', String(ctx.values.suite)]) });`);
  const twice = await p.run('suite=a', 'suite=b');
  assert.equal(twice.code, 2);
  assert.equal(twice.stderr, 'task: parameter suite is given twice, as "a" and "b"; give it once\n');
  assert.equal(p.exists('.task'), false);
  const same = await p.run('suite=trixie', 'suite=trixie');
  assert.equal(same.code, 0, same.stderr);
  assert.equal(p.read('suite.txt'), 'trixie\n');
});

test('CI=false, CI=0 and an empty CI are not CI: the terminal gets the live display; CI=true gets plain lines', async () => {
  const p = project(`export default task('a', { always: true, run: (ctx) => ctx.exec('sleep', ['0.2']) });`);
  for (const value of ['false', '0', '', 'FALSE']) {
    const result = await finished(spawnOnTerminal(p, '', { CI: value }));
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /\x1b\[\?25l/, `CI=${value}: the live display`);
    assert.doesNotMatch(result.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /\[1\/1\] a: done in/, `CI=${value}: no plain lines`);
  }
  for (const value of ['true', '1']) {
    const result = await finished(spawnOnTerminal(p, '', { CI: value }));
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /\[1\/1\] a: done in/, `CI=${value}: plain lines (in colour on a terminal)`);
  }
});

test('exec checks its arguments at the call and names what is wrong, in the task\'s name', async () => {
  const p = project(`
const greet = task('greet', { run: (ctx) => ctx.exec('echo', 'hello' as any) });
const count = task('count', { run: (ctx) => ctx.exec('seq', ['1', 3 as any]) });
const where = task('where', { run: (ctx) => ctx.exec('ls', [], { cwdir: '/' } as any) });
const quiet = task('quiet', { run: (ctx) => ctx.exec('ls', [], { quiet: 'yes' } as any) });
export default task('all', { deps: [greet, count, where, quiet] });
`);
  const result = await p.run('-k');
  assert.equal(result.code, 1);
  const out = result.stdout + result.stderr;
  assert.match(out, /^task 'greet' failed: task 'greet': exec\("echo", \.\.\.\): its arguments must be an array of strings, not the string "hello"; write exec\("echo", \["hello"\]\)$/m);
  assert.match(out, /^task 'count' failed: task 'count': exec\("seq", \.\.\.\): argument 1 \(3, number\) is not a string; write String\(3\)$/m);
  assert.match(out, /^task 'where' failed: task 'where': exec\("ls", \.\.\.\): unknown option 'cwdir' \(did you mean 'cwd'\?\); the options are cwd, env, input, reject, timeout, quiet/m);
  assert.match(out, /^task 'quiet' failed: task 'quiet': exec\("ls", \.\.\.\): option quiet must be true or false, not "yes"$/m);
  assert.doesNotMatch(out, /h e l l o|internal error|    at /);
  assert.equal(p.exists('.task/logs/greet.log'), false, 'nothing ran');
});
