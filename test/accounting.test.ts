// Honest process accounting: a task's commands' CPU time and peak memory come from their rusage
// (the spawn helper's wait4), the helper is reaped before the engine exits, and so a parent's
// `time`-style count of its children's CPU includes the commands'.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { usableHelper } from '../src/launch/spawn-helper/client.ts';
import { commandsSettled, makeContext } from '../src/launch/task-context.ts';
import { TaskLog } from '../src/launch/task-log.ts';
import { UsageTally } from '../src/launch/usage.ts';
import { projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);
const helperBuilt = usableHelper() !== undefined;

// A command that burns CPU: a fixed amount of work (not a time), so the CPU it takes does not
// shrink on a busy machine. 2e8 turns take about 0.25 s, 1.5e9 about 1.8 s.
const burner = (turns: number) =>
  `task('burn', { always: true, command: ['node', '-e', 'let x = 0; for (let i = 0; i < ${turns}; i++) x += i & 1; if (x < 0) console.log(x);'] });\n`;

/** User + system CPU of this process's waited-for children, in ms (/proc/self/stat cutime + cstime). */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5), counted from the state (field 3) here.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
}

/** This process's children: pid and state ('Z' for a zombie). */
function children(): Array<{ pid: number; state: string; command: string }> {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === process.pid) found.push({ pid: Number(entry), state: rest[0]!, command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

describe('process accounting', { skip: helperBuilt ? false : 'the spawn helper is not built (it measures the commands)' }, () => {
  test('-v shows the CPU time and peak memory of a task that burns CPU, and --json carries them', async () => {
    const p = project(burner(2e8));
    const verbose = await p.run('-v', 'burn');
    assert.equal(verbose.code, 0, verbose.stdout + verbose.stderr);
    const line = verbose.stdout.match(/burn: done in \S+, CPU (\d+(?:\.\d+)?)(ms|s), peak (\d+\.\d) MB/);
    assert.ok(line, verbose.stdout);
    const cpuMs = Number(line[1]) * (line[2] === 's' ? 1000 : 1);
    assert.ok(cpuMs > 100, `CPU ${cpuMs} ms for a command that burns about 250 ms`);
    assert.ok(Number(line[3]) > 1, `peak ${line[3]} MB for a node process`);

    const json = await p.run('--json', 'burn');
    assert.equal(json.code, 0, json.stderr);
    const finished = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.task === 'burn' && e.status === 'done');
    assert.ok(finished, json.stdout);
    assert.ok(finished.cpuMs > 100, JSON.stringify(finished));
    assert.ok(finished.peakRssKb > 1024, JSON.stringify(finished));
  });

  test('the CPU of the commands counts in the CPU of the build as its parent sees it (as `time task` does)', async () => {
    // More CPU than the engine itself takes (about 0.8 s, loading the Taskfile), so that the
    // engine's own CPU alone cannot make up the command's.
    const p = project(burner(1.5e9));
    const before = childrenCpuMs();
    const run = await p.run('--json', 'burn');
    const counted = childrenCpuMs() - before;
    assert.equal(run.code, 0, run.stderr);
    const finished = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.task === 'burn' && e.status === 'done');
    // The engine's own CPU comes on top; what matters is that the command's is not missing, as it
    // was while the helper was left to exit after the engine, reaped by no one who counts.
    assert.ok(counted >= finished.cpuMs, `the build's children counted ${counted} ms, its command alone used ${finished.cpuMs} ms`);
  });

  test('after the commands have settled, no child is left: no helper, no zombie', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accounting-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const log = new TaskLog(path.join(dir, 'log'), () => {});
    const usage = new UsageTally();
    const ctx = makeContext({ name: 't', root: dir, stateDir: dir, values: {}, signal: new AbortController().signal, log, usage });
    await Promise.all([ctx.exec('sh', ['-c', 'sleep 0.1 & wait']), ctx.exec('true'), ctx.exec('sh', ['-c', 'exit 3'], { reject: false })]);
    assert.ok(children().length > 0, 'the helper runs while commands may come');
    await commandsSettled();
    log.close();
    assert.deepEqual(children(), [], 'children of this process left after the build');
    assert.ok(usage.totals && usage.totals.cpuMs >= 0 && usage.totals.peakRssKb > 0, JSON.stringify(usage.totals));
  });
});
