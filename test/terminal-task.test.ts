// Tasks in the console pool (`pool: 'console'`) (the recipe's status, logs and shell): their output is printed
// without -v, their `stdio: 'inherit'` commands get the user's terminal in task's own process
// group, and a terminal gets plain lines instead of the live display.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { bin, finished, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

const taskfile = `
export const report = task('report', {
  pool: 'console',
  always: true,
  run: async (ctx) => {
    ctx.log('a line for the user');
    const { stdout } = await ctx.exec('sh', ['-c', 'echo captured'], { quiet: true });
    ctx.log(\`the command said \${stdout.trim()}\`);
  },
});
// Reads a line from its standard input, and says which process group it is in and which its
// parent (task) is in, and its controlling terminal.
task('talk', {
  pool: 'console',
  always: true,
  run: (ctx) => ctx.exec('sh', ['-c', 'read line; echo "got $line"; echo "groups $(ps -o pgid= -p $$) $(ps -o pgid= -p $PPID)"; echo "ctty $(ps -o tty= -p $$)"'], { stdio: 'inherit' }),
});
task('sneaky', { always: true, run: (ctx) => ctx.exec('true', [], { stdio: 'inherit' }) });
task('quietly', { always: true, run: (ctx) => ctx.log('not shown without -v') });
`;

test('a terminal task prints its log lines without -v; another task does not', async () => {
  const p = project(taskfile);
  const run = await p.run('report', 'quietly');
  assert.equal(run.code, 0, run.stderr);
  // quietly runs at the same time: its lines may come in between.
  const lines = run.stdout.split('\n').filter((line) => !/quietly|^\[|^  /.test(line));
  const started = lines.indexOf('report: running (always runs)');
  assert.ok(started >= 0, run.stdout);
  assert.deepEqual(lines.slice(started + 1, started + 3), ['a line for the user', 'the command said captured'], 'printed in order, after its start line');
  // The other task's output is not printed as it comes: once it succeeds, under its done line, indented (as ninja; issue 14).
  assert.match(run.stdout, /quietly: done in \S+\n(  .*\n)*  not shown without -v\n/);
});

test("stdio 'inherit': the command reads task's standard input and writes its standard output, in task's process group", async () => {
  const p = project(taskfile);
  const child = spawn(process.execPath, [bin, 'talk'], { cwd: p.dir, env: { ...process.env, CI: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end('hello\n');
  const run = await finished(child);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  // The start line, the command line, then what the command itself wrote, then the end line.
  assert.equal(lines[0], 'talk: running (always runs)');
  assert.match(lines[1]!, /^\$ sh -c 'read line; /);
  assert.equal(lines[2], 'got hello');
  const [own, parent] = lines[3]!.match(/^groups\s+(\d+)\s+(\d+)$/)!.slice(1);
  assert.equal(own, parent, "the command stays in task's process group (the terminal's foreground group)");
  assert.match(lines[5]!, /^\[1\/1\] talk: done in /);
});

test("stdio 'inherit' in a task not in the console pool fails, naming the field", async () => {
  const p = project(taskfile);
  const run = await p.run('sneaky');
  assert.equal(run.code, 1);
  assert.match(run.stderr, /task 'sneaky': stdio 'inherit' gives a command the terminal; declare the task with pool: 'console'/);
});

const haveScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;

test('on a terminal: plain lines around a terminal task, and its command reads the terminal', { skip: haveScript ? false : 'needs script (util-linux)' }, async () => {
  const p = project(taskfile);
  // script gives task a pseudo-terminal as its controlling terminal, standard input and output;
  // what is written to script's standard input is typed on it.
  const child = spawn('script', ['-qec', `${process.execPath} ${bin} talk`, '/dev/null'], {
    cwd: p.dir,
    env: { ...process.env, CI: '', TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Typed once the command waits for it: a line typed earlier would only be echoed.
  const typed = setInterval(() => child.stdin!.write('typed\n'), 500);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const run = await finished(child);
  clearInterval(typed);
  clearTimeout(timer);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const text = run.stdout.replaceAll('\r', '');
  assert.match(text, /^talk: running \(always runs\)$/m, 'plain lines, not the live display');
  assert.match(text, /^got typed$/m, 'the command read the terminal');
  // Its controlling terminal too (a shell's job control and Ctrl-C need it): a command in a
  // session of its own, as other commands are, would have none ("?").
  assert.match(text, /^ctty pts\/\d+$/m);
  assert.match(text, /^\[1\/1\] talk: done in /m);
});
