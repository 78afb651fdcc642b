// Both ways a command can start (the posix_spawn helper and execa) must look the same to a
// task: output, exit codes, signals, environment, working folder, process groups, failures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { LaunchOutcome, LaunchRequest, Launcher } from '../src/launch/command-launch.ts';
import { launchWithExeca } from '../src/launch/execa-launch.ts';
import { SpawnHelper, usableHelper } from '../src/launch/spawn-helper/client.ts';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

// Commands get the environment as it was when the first of them started: set before any.
process.env.LAUNCH_TEST_REMOVED = 'still here';
const helperBinary = usableHelper();
const helper = helperBinary ? new SpawnHelper(helperBinary) : undefined;

const launchers: [string, Launcher | undefined, string][] = [
  ['spawn helper', helper && ((request) => helper.launch(request)), 'the helper is not built (no C compiler when npm ran `prepare`, or TASK_SPAWN=node)'],
  ['execa', launchWithExeca, ''],
];

function request(file: string, args: string[], extra: Partial<LaunchRequest> = {}): LaunchRequest & { seen: string[] } {
  const seen: string[] = [];
  return { file, args, cwd: work, onOutput: (text) => seen.push(text), seen, ...extra };
}

function exited(outcome: LaunchOutcome) {
  assert.ok(outcome.started, `the command did not start: ${outcome.started ? '' : outcome.message}`);
  return outcome;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const [name, launch, whyNot] of launchers) {
  describe(`commands started by ${name}`, { skip: launch ? false : whyNot }, () => {
    const run = launch!;

    test('stdout and stderr come back apart, and every piece reaches the log as it arrives', async () => {
      const r = request('sh', ['-c', 'echo out; echo err >&2; printf "no newline"']);
      const o = exited(await run(r).finished);
      assert.equal(o.exitCode, 0);
      assert.equal(o.stdout, 'out\nno newline');
      assert.equal(o.stderr, 'err\n');
      assert.equal(r.seen.join('').length, 'out\nno newline'.length + 'err\n'.length);
    });

    test('exit codes and the signal that killed a command are reported', async () => {
      assert.equal(exited(await run(request('sh', ['-c', 'exit 7'])).finished).exitCode, 7);
      const killed = exited(await run(request('sh', ['-c', 'kill -TERM $$'])).finished);
      assert.equal(killed.exitCode, null);
      assert.equal(killed.signal, 'SIGTERM');
    });

    test('a program that does not exist does not start, and says so', async () => {
      const o = await run(request('no-such-program-here', [])).finished;
      assert.equal(o.started, false);
      assert.match(o.started ? '' : o.message, /ENOENT/);
    });

    test('the working folder and the environment changes (additions and removals) apply', async () => {
      fs.mkdirSync(path.join(work, 'sub'), { recursive: true });
      const script = 'pwd; echo "$ADDED"; echo "${LAUNCH_TEST_REMOVED-unset}"';
      const unchanged = exited(await run(request('sh', ['-c', script], { cwd: path.join(work, 'sub') })).finished);
      assert.equal(unchanged.stdout, `${path.join(work, 'sub')}\n\nstill here\n`);
      const r = request('sh', ['-c', script], {
        cwd: path.join(work, 'sub'),
        env: { ADDED: 'a value with spaces', LAUNCH_TEST_REMOVED: undefined },
      });
      const o = exited(await run(r).finished);
      assert.equal(o.stdout, `${path.join(work, 'sub')}\na value with spaces\nunset\n`);
      const overridden = exited(await run(request('sh', ['-c', script], { env: { LAUNCH_TEST_REMOVED: 'replaced' } })).finished);
      assert.equal(overridden.stdout.split('\n')[2], 'replaced');
    });

    test('a change to process.env after the first command started does not reach later commands', async () => {
      exited(await run(request('true', [])).finished);
      process.env.LAUNCH_TEST_LATE = 'set late';
      try {
        const o = exited(await run(request('sh', ['-c', 'echo "${LAUNCH_TEST_LATE-unset}"'])).finished);
        assert.equal(o.stdout, 'unset\n');
      } finally {
        delete process.env.LAUNCH_TEST_LATE;
      }
    });

    test('a signal sent as soon as the command is launched reaches it', async () => {
      const command = run(request('sleep', ['30']));
      command.signalGroup('SIGTERM');
      assert.equal(exited(await command.finished).signal, 'SIGTERM');
    });

    test('a signal after the command exited still reaches what is left of its process group', async () => {
      const o = exited(await (async () => {
        const command = run(request('sh', ['-c', 'sleep 30 > /dev/null 2>&1 & echo $!']));
        const outcome = await command.finished;
        const leftover = Number(outcome.started ? outcome.stdout : NaN);
        assert.ok(alive(leftover), 'the background sleep is running');
        command.signalGroup('SIGKILL');
        for (let i = 0; i < 100 && alive(leftover); i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(alive(leftover), false, `the background child ${leftover} outlived the signal`);
        return outcome;
      })());
      assert.equal(o.exitCode, 0);
    });

    test("an environment variable name holding '=' does not start the command, and says so", async () => {
      const o = await run(request('true', [], { env: { 'A=B': 'c' } })).finished;
      assert.equal(o.started, false);
      assert.match(o.started ? '' : o.message, /"A=B" is empty or holds '='/);
    });

    test('PATH from the environment changes is where the program is looked up', async () => {
      const bin = path.join(work, 'bin');
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'only-here'), '#!/bin/sh\necho found me\n', { mode: 0o755 });
      const o = exited(await run(request('only-here', [], { env: { PATH: `${bin}:${process.env.PATH}` } })).finished);
      assert.equal(o.stdout, 'found me\n');
    });

    test('standard input is empty, so a command reading it does not wait', async () => {
      assert.equal(exited(await run(request('cat', [])).finished).stdout, '');
    });

    test('UTF-8 split across reads and a large output arrive intact', async () => {
      const o = exited(await run(request('sh', ['-c', `i=0; while [ $i -lt 20000 ]; do echo "ligne $i é€😀"; i=$((i+1)); done`])).finished);
      const lines = o.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 20000);
      assert.equal(lines[19999], 'ligne 19999 é€😀');
      assert.ok(!o.stdout.includes('\uFFFD'), 'no replacement characters');
    });

    test('a signal to the command reaches its whole process group, children included', async () => {
      const pidFile = path.join(work, `child-${name.replace(/\W/g, '')}`);
      const command = run(request('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`]));
      while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 20));
      const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
      assert.ok(alive(grandchild));
      command.signalGroup('SIGTERM');
      const o = exited(await command.finished);
      assert.equal(o.signal, 'SIGTERM');
      for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(alive(grandchild), false, `the background child ${grandchild} outlived the stop`);
    });

    test('a script without a #! line runs with /bin/sh, as execvp runs it', async () => {
      const bin = path.join(work, 'bin');
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'no-shebang'), 'echo "ran as $0 with $1"\n', { mode: 0o755 });
      const o = exited(await run(request('no-shebang', ['an-arg'], { env: { PATH: `${bin}:${process.env.PATH}` } })).finished);
      assert.equal(o.exitCode, 0);
      assert.equal(o.stdout, `ran as ${path.join(bin, 'no-shebang')} with an-arg\n`);
    });

    test('a command killed by SIGABRT is reported as SIGABRT', async () => {
      assert.equal(exited(await run(request('sh', ['-c', 'kill -ABRT $$'])).finished).signal, 'SIGABRT');
    });

    test('a command leads a session of its own, so it has no terminal to be stopped on', async () => {
      // Fields 5 and 6 of /proc/PID/stat: process group and session.
      const o = exited(await run(request('sh', ['-c', 'echo $$; cut -d" " -f5,6 /proc/$$/stat'])).finished);
      const [pid, ids] = o.stdout.trim().split('\n');
      assert.equal(ids, `${pid} ${pid}`);
    });

    test('many commands at once each get their own output and status', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => run(request('sh', ['-c', `echo ${i}; exit ${i % 5}`])).finished),
      );
      outcomes.forEach((outcome, i) => {
        const o = exited(outcome);
        assert.equal(o.stdout, `${i}\n`);
        assert.equal(o.exitCode, i % 5);
      });
    });
  });
}

const sleeperPid = async (command: ReturnType<Launcher>, pidFile: string) => {
  while (!fs.existsSync(pidFile) || fs.readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 20));
  return Number(fs.readFileSync(pidFile, 'utf8'));
};

const gone = async (pid: number) => {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
};

describe('when the spawn helper goes away', { skip: helperBinary ? false : 'the helper is not built' }, () => {
  test('killed mid-run: its running command is killed and fails, later ones may start another way', async () => {
    const own = new SpawnHelper(helperBinary!);
    const pidFile = path.join(work, 'helper-killed');
    const command = own.launch(request('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`]));
    const sleeper = await sleeperPid(command, pidFile);
    process.kill(own.pid!, 'SIGKILL');
    const outcome = await command.finished;
    assert.equal(outcome.started, false);
    assert.equal(outcome.started === false && outcome.helperFailed, false, 'it had started: not to be started again');
    assert.ok(await gone(sleeper), `the command's child ${sleeper} outlived the helper`);
    const later = await own.launch(request('true', [])).finished;
    assert.equal(later.started === false && later.helperFailed, true);
  });

  test('killed mid-run without its pid file (no writable temporary folder): the same, from its replies', async () => {
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = path.join(work, 'no-such-folder');
    let own: SpawnHelper;
    try {
      own = new SpawnHelper(helperBinary!);
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    const pidFile = path.join(work, 'helper-killed-no-file');
    const command = own.launch(request('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`]));
    const sleeper = await sleeperPid(command, pidFile);
    process.kill(own.pid!, 'SIGKILL');
    const outcome = await command.finished;
    assert.equal(outcome.started === false && outcome.helperFailed, false, 'it had started: not to be started again');
    assert.ok(await gone(sleeper), `the command's child ${sleeper} outlived the helper`);
  });

  test('its input closed (the engine gone): what still runs is killed', async () => {
    const own = new SpawnHelper(helperBinary!);
    const pidFile = path.join(work, 'helper-closed');
    const command = own.launch(request('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`]));
    const sleeper = await sleeperPid(command, pidFile);
    own.close();
    await command.finished;
    assert.ok(await gone(sleeper), `the command's child ${sleeper} outlived the engine`);
  });
});

test('the spawn helper is built where a C compiler is, as CI installs one', { skip: process.env.CI ? false : 'only enforced in CI' }, () => {
  assert.ok(helperBinary, 'CI installs a C compiler before `npm ci`, whose prepare step builds the helper');
});
