// The live display as a user at a terminal sees it (issue 14, "The display"), under a real
// pseudo-terminal (script(1)) 80 columns by 24 rows: what is on the screen while tasks run (the
// count, a row for each running task with its latest line, never a waiting task), what is left on
// it at the end (each finished task's output once, above; no rows; the cursor back), and Ctrl-C.
// The tasks wait for a file the test writes once it has seen what it looks for: no timing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { bin, finished, projectMaker, waitForFile, type CliResult, type Project } from './helpers/cli-rig.ts';
import { play } from './helpers/screen.ts';

const project = projectMaker(after);
const columns = 80;

/** The CLI under a pseudo-terminal, watched as it writes; `-e` passes its exit status on. */
function onTerminal(p: Project, args: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '', NODE_OPTIONS: '', TERM: 'xterm' };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const child = spawn('script', ['-qefc', `stty cols ${columns} rows 24; ${process.execPath} ${bin} ${args}`, '/dev/null'], {
    cwd: p.dir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let transcript = '';
  let checks: Array<() => void> = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    transcript += d;
    checks.forEach((check) => check());
  });
  const done = finished(child);
  return {
    done,
    /** Everything written so far. */
    transcript: () => transcript,
    /** The screen now. */
    screen: () => play(transcript, columns).lines,
    /** Resolves once the screen shows a line matching `pattern`; fails if the CLI ends first. */
    until(pattern: RegExp, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (play(transcript, columns).lines.some((line) => pattern.test(line))) {
            checks = checks.filter((c) => c !== check);
            resolve();
          }
        };
        checks.push(check);
        check();
        void done.then((result) => reject(new Error(`the CLI ended (${result.code}) before the screen showed ${what}:\n${play(transcript, columns).lines.join('\n')}\n${result.stderr}`)));
      });
    },
  };
}

const lines = (result: CliResult) => play(result.stdout, columns);
const occurrences = (screen: string[], text: string) => screen.filter((line) => line === text).length;
/** A row of the live display: the count, or a running task's row ("  NAME  3s  LATEST"). */
const row = /^\[\d+\/\d+\]( \d+ running)?$|^  \S+ +\d+m?\d*s( |$)/;

const waitForGo = 'while [ ! -e go ]; do sleep 0.05; done';

test('while tasks run: the count and a row for each running task with its latest line (a \\r progress line\'s last segment), never a waiting task', { timeout: 60_000 }, async () => {
  const p = project(`
const fetcher = task('fetcher', { always: true, run: (ctx) => ctx.exec('sh', ['fetch.sh']) });
const unpacker = task('unpacker', { always: true, deps: [fetcher], run: (ctx) => ctx.exec('sh', ['-c', 'echo unpacked it']) });
export default task('all', { deps: [unpacker] });
`);
  // A progress line redrawn with \r, finished by its newline only once the test says go.
  p.write('fetch.sh', `printf 'fetch 10%%\\rfetch 50%%\\rfetch 90%%'; ${waitForGo}; echo; echo fetched it\n`);
  const run = onTerminal(p, '');
  await run.until(/^  fetcher +\d+s  fetch 90%$/, "fetcher's row with its progress");
  const screen = run.screen();
  assert.ok(screen.includes('[0/2] 1 running'), `the count:\n${screen.join('\n')}`);
  assert.doesNotMatch(run.transcript(), /unpacker/, 'the waiting task is not drawn');
  assert.doesNotMatch(run.transcript(), /fetch 10%|fetch 50%/, 'only the last segment of the progress line');
  fs.writeFileSync(p.path('go'), '');
  const result = await run.done;
  assert.equal(result.code, 0, result.stdout);
  const end = lines(result);
  assert.equal(end.cursorHidden, false, 'the cursor is back');
  const finalScreen = end.lines.filter((line) => line !== '');
  assert.deepEqual(finalScreen.slice(0, -1).map((line) => line.replace(/\d+(\.\d+)?m?s$/, 'T')), [
    // The group all is not counted; what a task printed is shown under its line, without its `$ command` lines.
    '[1/2] fetcher: done in T',
    '  fetch 90%',
    '  fetched it',
    '[2/2] unpacker: done in T',
    '  unpacked it',
  ]);
  assert.match(finalScreen.at(-1)!, /^task: 2 ran/);
  assert.ok(!finalScreen.some((line) => row.test(line)), 'no row of the live display is left');
  assert.ok(run.transcript().indexOf('unpacker') > run.transcript().indexOf('fetched it'), 'unpacker is drawn only once it runs');
});

test('output printed once above, ctx.log lines kept, a quiet task only counted, a failure in full as it happens, the other rows keep their names', { timeout: 60_000 }, async () => {
  const p = project(`
const warner = task('warner', { always: true, run: async (ctx) => { ctx.log('note from ctx.log'); await ctx.exec('sh', ['-c', 'echo "warning: deprecated flag" >&2']); } });
const quiet = task('quiet', { always: true, run: (ctx) => ctx.exec('true') });
const broken = task('broken', { always: true, run: (ctx) => ctx.exec('sh', ['-c', 'echo about to fail; exit 3']) });
const steady = task('steady', { always: true, run: (ctx) => ctx.exec('sh', ['-c', 'echo steady on; ${waitForGo}']) });
export default task('all', { deps: [warner, quiet, broken, steady] });
`);
  const run = onTerminal(p, '-j 4');
  await run.until(/^task 'broken' failed: command exited with code 3/, "broken's failure");
  await run.until(/^  steady +\d+s  steady on$/, "steady's row");
  const during = run.screen();
  assert.ok(during.includes('    about to fail'), `the failure's output, as it happens:\n${during.join('\n')}`);
  fs.writeFileSync(p.path('go'), '');
  const result = await run.done;
  assert.equal(result.code, 1, result.stdout);
  const end = lines(result).lines;
  assert.equal(occurrences(end, '  note from ctx.log'), 1, end.join('\n'));
  assert.equal(occurrences(end, '  warning: deprecated flag'), 1, end.join('\n'));
  assert.ok(end.some((line) => /^\[\d\/4\] warner: done in /.test(line)), 'the warning is under its task');
  assert.ok(!end.some((line) => line.includes('quiet')), 'a quiet task is not printed');
  assert.equal(occurrences(end, '  steady on'), 1, 'steady\'s output, once, its row gone');
  assert.ok(end.some((line) => /^  full log: .*broken\.log$/.test(line)));
  assert.ok(!end.some((line) => row.test(line)), 'no row of the live display is left');
});

test('Ctrl-C while rows are drawn, once or twice: exit 130, the terminal restored, no row left', { timeout: 60_000 }, async () => {
  for (const presses of [1, 2]) {
    const p = project(`
import fs from 'node:fs';
const a = task('chatty', { always: true, run: async (ctx) => {
  fs.writeFileSync('task.pid', String(process.pid));
  await ctx.exec('sh', ['-c', 'while true; do echo tick; sleep 0.02; done']);
} });
const b = task('other', { always: true, run: (ctx) => ctx.exec('sh', ['-c', 'trap "echo stopping; sleep 0.3; exit 1" TERM; while true; do sleep 0.05; done']) });
export default task('all', { deps: [a, b] });
`);
    const run = onTerminal(p, '-j 2');
    await waitForFile(p.path('task.pid'));
    await run.until(/^  chatty +\d+s  tick$/, "chatty's row");
    const pid = Number(p.read('task.pid'));
    for (let i = 0; i < presses; i++) process.kill(pid, 'SIGINT');
    const result = await run.done;
    assert.equal(result.code, 130, `${presses}: ${result.stdout}`);
    const end = lines(result);
    assert.equal(end.cursorHidden, false, `${presses}: the cursor is back`);
    assert.ok(!end.lines.some((line) => row.test(line)), `${presses}: no row left:\n${end.lines.join('\n')}`);
    assert.equal(end.lines.filter((line) => line.includes('stopping running commands')).length, 1, `${presses}: the interrupt message is on the screen, once`);
    assert.doesNotMatch(result.stdout + result.stderr, /TypeError|    at /);
    assert.match(result.stdout, /\x1b\[\?7h(?![\s\S]*\x1b\[\?7l)/, `${presses}: line wrapping is back on`);
    assert.equal(p.exists('.task/lock'), false);
  }
});
