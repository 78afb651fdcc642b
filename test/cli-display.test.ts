// The display as a user sees it (issue 14, "The display"): --progress and --color, TERM=dumb,
// NO_COLOR and a 0-column or tiny terminal under a real pseudo-terminal (script(1)), the values
// refused, and --json's lines as a CI system or an editor reads them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { Project, bin, finished, projectMaker, type CliResult } from './helpers/cli-rig.ts';

const project = projectMaker(after);

/** An SGR code that sets a colour or an attribute (bold, dim, a foreground colour), not a reset. */
const colourCode = /\x1b\[(?:[0-9;]*;)?(?:1|2|3[0-7]|9[0-7])(?:;[0-9;]*)?m/;
/** Any escape sequence at all. */
const escape = /\x1b/;
/** listr2 hiding the cursor: the live display drew. */
const liveDrew = /\x1b\[\?25l/;

/**
 * Runs the CLI under a pseudo-terminal 80 columns wide, or as `setup` (as `stty cols 0`) makes it:
 * script's pty takes the size of the terminal it runs in, and a test may run in none.
 * `-e` passes its exit status on.
 */
async function onTerminal(p: Project, args: string, env: Record<string, string | undefined> = {}, setup = 'stty cols 80 rows 24'): Promise<CliResult> {
  const command = `${setup}; ${process.execPath} ${bin} ${args}`;
  const merged: Record<string, string | undefined> = { ...process.env, CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: p.cacheDir, TERM: 'xterm', NO_COLOR: undefined, FORCE_COLOR: undefined, ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: p.dir, env: merged as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const result = await finished(child);
  return { ...result, stdout: result.stdout.replace(/\r\n/g, '\n') };
}

/** Runs the CLI with its stdout a pipe, NO_COLOR and FORCE_COLOR cleared unless given. */
function inPipe(p: Project, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const merged: NodeJS.ProcessEnv = { ...process.env, CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: p.cacheDir, ...env };
  if (!('NO_COLOR' in env)) delete merged.NO_COLOR;
  if (!('FORCE_COLOR' in env)) delete merged.FORCE_COLOR;
  return finished(spawn(process.execPath, [bin, ...args], { cwd: p.dir, env: merged, stdio: ['ignore', 'pipe', 'pipe'] }));
}

const twoTasks = `
const first = task('first', { outputs: ['first.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo making first; echo 1 > first.txt']) });
export default task('second', { deps: [first], outputs: ['second.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo 2 > second.txt']) });
`;

const failing = `
const first = task('first', { outputs: ['first.txt'], run: (ctx) => ctx.exec('sh', ['-c', 'echo making first; echo 1 > first.txt']) });
const quiet = task('quiet', { run: (ctx) => ctx.exec('true', []) });
const broken = task('broken', { deps: [first, quiet], run: (ctx) => ctx.exec('sh', ['-c', 'echo about to fail; exit 3']) });
const after = task('after', { deps: [broken], run: (ctx) => ctx.exec('true', []) });
export default task('all', { deps: [after] });
`;

test('TERM=dumb on a terminal: plain lines and no escape codes at all', async () => {
  const p = project(twoTasks);
  const result = await onTerminal(p, '', { TERM: 'dumb' });
  assert.equal(result.code, 0, result.stdout);
  assert.doesNotMatch(result.stdout, escape, 'no escape code of any kind');
  assert.match(result.stdout, /^first: running \(no record of a previous successful run\)$/m);
  assert.match(result.stdout, /^\[2\/2\] second: done in \S+$/m);
  assert.match(result.stdout, /^task: 2 ran \(\S+\)$/m);
});

test('NO_COLOR (set and not empty) gives no colour codes, on the live display and on plain lines; empty, it is not set', async () => {
  const p = project(twoTasks);
  const live = await onTerminal(p, '', { NO_COLOR: '1' });
  assert.equal(live.code, 0, live.stdout);
  assert.match(live.stdout, liveDrew, 'the live display still draws');
  assert.doesNotMatch(live.stdout, colourCode, 'no colour on the live display');
  const plain = await onTerminal(p, '--progress=plain -f second', { NO_COLOR: '1' });
  assert.equal(plain.code, 0, plain.stdout);
  assert.doesNotMatch(plain.stdout, colourCode);
  assert.match(plain.stdout, /^\[2\/2\] second: done in /m);
  // The same run without NO_COLOR, and with it empty (no-color.org: "not empty"), is in colour.
  for (const env of [{}, { NO_COLOR: '' }]) {
    const coloured = await onTerminal(p, '--progress=plain -f second', env);
    assert.equal(coloured.code, 0, coloured.stdout);
    assert.match(coloured.stdout, colourCode, `plain lines on a terminal are in colour with ${JSON.stringify(env)}`);
  }
});

test('--color=always into a pipe gives colour codes; --color=never on a terminal gives none; auto into a pipe none', async () => {
  const p = project(failing);
  const always = await inPipe(p, ['--color=always']);
  assert.equal(always.code, 1);
  assert.match(always.stdout, /\x1b\[32mdone\x1b\[39m/, 'done in green');
  assert.match(always.stderr, /\x1b\[31mFAILED\x1b\[39m/, 'FAILED in red (failures go to stderr)');
  const auto = await inPipe(p, ['-f', 'first']);
  assert.doesNotMatch(auto.stdout + auto.stderr, escape);
  const never = await onTerminal(p, '--color=never --progress=plain -f first');
  assert.equal(never.code, 0, never.stdout);
  assert.doesNotMatch(never.stdout, colourCode);
  const neverLive = await onTerminal(p, '--color=never -f first');
  assert.match(neverLive.stdout, liveDrew);
  assert.doesNotMatch(neverLive.stdout, colourCode, 'listr2 draws without colour too');
  const alwaysLive = await onTerminal(p, '--color=always -f first', { NO_COLOR: '1' });
  assert.match(alwaysLive.stdout, colourCode, '--color=always wins over NO_COLOR');
});

test('a 0-column terminal, or one under 20 columns, gets plain lines, not a garbled live display', async () => {
  const p = project(twoTasks);
  assert.equal((await inPipe(p, [])).code, 0);
  for (const cols of [0, 10]) {
    const result = await onTerminal(p, '-f second', {}, `stty cols ${cols}`);
    assert.equal(result.code, 0, result.stdout);
    assert.doesNotMatch(result.stdout, liveDrew, `${cols} columns: no live display`);
    assert.doesNotMatch(result.stdout, /\x1b\[[0-9]*[ABGKJ]/, `${cols} columns: no cursor movement or erasing`);
    const lines = result.stdout.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter(Boolean);
    assert.deepEqual(
      lines.map((line) => line.replace(/\d+ms|\d+\.\d+s/g, 'T')),
      ['second: running (forced (-f))', '[2/2] second: done in T', 'task: 1 ran, 1 up to date (T)'],
      `${cols} columns: whole lines`,
    );
  }
});

test('--progress=plain on a terminal prints plain lines; --progress=live into a pipe is taken as asked and does not crash', async () => {
  const p = project(twoTasks);
  const plain = await onTerminal(p, '--progress=plain');
  assert.equal(plain.code, 0, plain.stdout);
  assert.doesNotMatch(plain.stdout, liveDrew);
  assert.match(plain.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /^\[2\/2\] second: done in /m);
  const live = await inPipe(p, ['--progress=live', '-f', 'second']);
  assert.equal(live.code, 0, live.stdout + live.stderr);
  assert.doesNotMatch(live.stdout, /^\[1\/2\] second: done/m, 'not the plain display');
  assert.match(live.stdout, /second/);
  // The summary goes to stderr, as in plain mode.
  assert.match(live.stderr, /^task: 1 ran, 1 up to date \(\S+\)$/m);
  assert.doesNotMatch(live.stdout, /^task: 1 ran/m);
});

test('an invalid --progress or --color value, or --json with --progress=live, is exit 2 in one line naming the option', async () => {
  const p = project(twoTasks);
  const cases: Array<[string[], RegExp]> = [
    [['--progress=fancy'], /^task: option --progress: 'fancy' is not one of auto, plain, live\n$/],
    [['--progress', 'fancy'], /^task: option --progress: 'fancy' is not one of auto, plain, live\n$/],
    [['--color=yes'], /^task: option --color: 'yes' is not one of auto, always, never\n$/],
    [['--color'], /^task: option --color needs a value\n$/],
    [['--json', '--progress=live'], /^task: --json cannot be combined with --progress=live: [^\n]+\n$/],
    [['--json', '--list'], /^task: --json cannot be combined with --list: [^\n]+\n$/],
  ];
  for (const [args, message] of cases) {
    const result = await inPipe(p, args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stdout, '');
    assert.equal(p.exists('.task'), false, `${args.join(' ')} created nothing`);
  }
});

/** Every line of stdout parsed as JSON; a line that does not parse fails the test. */
function events(result: CliResult): Array<Record<string, any>> {
  assert.ok(result.stdout.endsWith('\n'), 'stdout ends with a newline');
  return result.stdout.slice(0, -1).split('\n').map((line) => {
    try {
      return JSON.parse(line) as Record<string, any>;
    } catch {
      assert.fail(`not JSON: ${JSON.stringify(line)}`);
    }
  });
}

test('--json: one JSON object a line, a plan first, started and finished per task, a summary whose exit status is the process\'s', async () => {
  const p = project(failing);
  const result = await inPipe(p, ['--json', '-v']);
  assert.equal(result.code, 1, result.stderr);
  const lines = events(result);
  const plan = lines[0]!;
  assert.equal(plan.event, 'plan');
  assert.deepEqual(plan.targets, ['all']);
  assert.deepEqual(plan.tasks.map((t: { task: string }) => t.task), ['first', 'quiet', 'broken', 'after', 'all']);
  assert.deepEqual(plan.tasks[0], { task: 'first', run: true, reasons: ['no record of a previous successful run'] });
  assert.equal(lines.filter((e) => e.event === 'plan').length, 1);
  const started = lines.filter((e) => e.event === 'started').map((e) => e.task);
  assert.deepEqual(started.sort(), ['broken', 'first', 'quiet']);
  for (const e of lines.filter((e) => e.event === 'started')) assert.ok(!Number.isNaN(Date.parse(e.time)), 'started has a time');
  const finished = new Map(lines.filter((e) => e.event === 'finished').map((e) => [e.task, e]));
  assert.equal(finished.get('first')?.status, 'done');
  assert.equal(typeof finished.get('first')?.durationMs, 'number');
  assert.equal(finished.get('first')?.reason, 'no record of a previous successful run');
  assert.match(finished.get('first')?.log, /\.task\/logs\/first\.log$/);
  assert.equal(finished.get('quiet')?.status, 'done');
  assert.equal('log' in finished.get('quiet')!, false, 'a task that printed nothing has no log');
  const broken = finished.get('broken')!;
  assert.equal(broken.status, 'failed');
  assert.equal(broken.exitCode, 3);
  assert.match(broken.error, /exited with code 3/);
  assert.match(broken.log, /\.task\/logs\/broken\.log$/);
  assert.equal(finished.get('after')?.status, 'skipped');
  assert.ok(lines.findIndex((e) => e.event === 'started' && e.task === 'broken') > lines.findIndex((e) => e.event === 'finished' && e.task === 'first'));
  const summary = lines.at(-1)!;
  assert.equal(summary.event, 'summary');
  assert.equal(summary.exitStatus, result.code);
  assert.equal(summary.counts.ran, 2);
  assert.equal(summary.counts.failed, 1);
  assert.equal(typeof summary.durationMs, 'number');
  // -v's messages and the failure report are not on stdout: they go to stderr.
  assert.match(result.stderr, /task: using /);
  assert.match(result.stderr, /^task: task 'broken' failed: command exited with code 3: .*\ntask: {3}command: .*\n(task: .*\n)*task: {3}full log: .*\.task\/logs\/broken\.log$/m);
});

test('--json on a build with nothing to do, and with -n: still a plan and a summary, every line JSON', async () => {
  const p = project(twoTasks);
  const dry = await inPipe(p, ['--json', '-n']);
  assert.equal(dry.code, 0, dry.stderr);
  const dryLines = events(dry);
  assert.equal(dryLines[0]!.event, 'plan');
  assert.deepEqual(dryLines[0]!.tasks.map((t: { run: boolean }) => t.run), [true, true]);
  assert.equal(dryLines.at(-1)!.event, 'summary');
  assert.equal(dryLines.at(-1)!.counts.wouldRun, 2);
  const build = await inPipe(p, ['--json']);
  assert.equal(build.code, 0, build.stderr);
  assert.equal(events(build).at(-1)!.exitStatus, 0);
  const again = await inPipe(p, ['--json']);
  assert.equal(again.code, 0);
  const lines = events(again);
  assert.deepEqual(lines[0]!.tasks, [
    { task: 'first', run: false, reasons: ['up to date'] },
    { task: 'second', run: false, reasons: ['up to date'] },
  ]);
  assert.deepEqual(lines.filter((e) => e.event === 'finished').map((e) => [e.task, e.status]), [['first', 'up-to-date'], ['second', 'up-to-date']]);
  assert.deepEqual(lines.at(-1)!.counts.upToDate, 2);
  assert.equal(lines.at(-1)!.exitStatus, 0);
});
