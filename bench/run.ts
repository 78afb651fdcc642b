// Benchmarks `task` against make and ninja on the same generated builds (bench/generate.ts),
// side by side in one run, and prints a markdown table of medians, ratios and targets.
//
//   npm run bench                 # full: N = 1,000 and 10,000 (about 10 minutes on 2 cores)
//   npm run bench -- --quick      # smaller N, fewer repetitions (about 2 minutes)
//   npm run bench -- --keep       # keep the generated builds (their folder is printed)
//
// Installs nothing. Needs make and ninja; GNU time (/usr/bin/time) for the memory figure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate, type BuildDescription, type GeneratedBuild } from './generate.ts';
import { median } from './median.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const taskBin = path.join(repo, 'bin', 'task.js');
const node = process.execPath;

type Tool = 'make' | 'ninja' | 'task';
const tools: readonly Tool[] = ['make', 'ninja', 'task'];

interface Config {
  quick: boolean;
  /** The graph of the full and incremental builds, and of the small no-op. */
  smallN: number;
  /** The graph of the large no-op and the memory figure. */
  largeN: number;
  fullReps: number;
  incrementalReps: number;
  smallNoopReps: number;
  largeNoopReps: number;
  sleepWidth: number;
  sleepLayers: number;
  sleepReps: number;
  loadReps: number;
  memoryReps: number;
  jobs: number;
}

const fullConfig: Config = {
  quick: false, smallN: 1000, largeN: 10000, fullReps: 3, incrementalReps: 3, smallNoopReps: 10, largeNoopReps: 5,
  sleepWidth: 16, sleepLayers: 10, sleepReps: 3, loadReps: 10, memoryReps: 1, jobs: 2,
};
const quickConfig: Config = {
  quick: true, smallN: 200, largeN: 1000, fullReps: 2, incrementalReps: 2, smallNoopReps: 5, largeNoopReps: 3,
  sleepWidth: 16, sleepLayers: 6, sleepReps: 2, loadReps: 5, memoryReps: 1, jobs: 2,
};

const seed = 1;
const sleepSeconds = 0.2;

class BenchFailure extends Error {}

// ---------------------------------------------------------------------------------------------
// Processes and timing

interface Timed {
  ms: number;
  stdout: string;
  stderr: string;
}

/** Environment for the tools: no make flags inherited from an enclosing make. */
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv.MAKEFLAGS;
delete childEnv.MFLAGS;
delete childEnv.MAKELEVEL;

/** Runs a command to completion, timed with process.hrtime; a non-zero exit fails the benchmark. */
function timed(file: string, args: readonly string[], cwd: string, what: string): Timed {
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd, env: childEnv, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw new BenchFailure(`${what}: cannot run ${file}: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-15).join('\n    ');
    throw new BenchFailure(`${what}: \`${[file, ...args].join(' ')}\` in ${cwd} exited with ${result.status ?? result.signal}:\n    ${tail}`);
  }
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/** The first line a command prints, or undefined when it cannot run. */
function firstLine(file: string, args: readonly string[]): string | undefined {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.trim();
}

/** The command line that builds (or no-op builds) `dir` with `tool`. */
function buildCommand(tool: Tool, dir: string, jobs: number | undefined): [string, string[], string] {
  const j = jobs === undefined ? [] : [`-j${jobs}`];
  if (tool === 'make') return ['make', ['-s', ...j], dir];
  if (tool === 'ninja') return ['ninja', j, dir];
  return [node, [taskBin, '-C', dir, ...(jobs === undefined ? [] : ['-j', String(jobs)])], repo];
}

function runTool(tool: Tool, dir: string, jobs: number | undefined, what: string): Timed {
  const [file, args, cwd] = buildCommand(tool, dir, jobs);
  return timed(file, args, cwd, `${what} (${tool})`);
}

let gnuTime: string | undefined | null = null;
/** Whether GNU time is usable, and if not why (cached). */
function gnuTimeProblem(): string | undefined {
  if (gnuTime !== null) return gnuTime;
  const probe = path.join(os.tmpdir(), `task-bench-time-${process.pid}`);
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', probe, 'true'], { encoding: 'utf8' });
  let ok = false;
  try {
    ok = result.status === 0 && /^\d+\s*$/.test(fs.readFileSync(probe, 'utf8'));
  } catch {
    ok = false;
  }
  fs.rmSync(probe, { force: true });
  gnuTime = ok
    ? undefined
    : result.error
      ? '/usr/bin/time (GNU time) is missing: install it with `apt-get install time`'
      : '/usr/bin/time does not take `-f %M -o FILE` (not GNU time): install GNU time with `apt-get install time`';
  return gnuTime;
}

/** One run of a command through GNU time: the run, and the last line GNU time wrote for `format`. */
function underGnuTime(format: string, file: string, args: readonly string[], cwd: string, what: string): { figures: string; run: Timed } {
  const out = path.join(os.tmpdir(), `task-bench-gnu-time-${process.pid}`);
  try {
    const run = timed('/usr/bin/time', ['-f', format, '-o', out, file, ...args], cwd, what);
    return { figures: fs.readFileSync(out, 'utf8').trim().split('\n').pop() ?? '', run };
  } finally {
    fs.rmSync(out, { force: true });
  }
}

/** Max RSS in KiB of one run of a command, through GNU time. */
function maxRssKiB(file: string, args: readonly string[], cwd: string, what: string): { kib: number; run: Timed } {
  const { figures, run } = underGnuTime('%M', file, args, cwd, what);
  const kib = Number(figures);
  if (!Number.isFinite(kib) || kib <= 0) throw new BenchFailure(`${what}: GNU time gave no max RSS`);
  return { kib, run };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

// ---------------------------------------------------------------------------------------------
// Builds on disk, and the checks that each tool really did (or really skipped) the work

/** One generated build, copied into a folder per tool so their outputs can be compared. */
interface Workspace {
  name: string;
  build: GeneratedBuild;
  dirs: Record<Tool, string>;
}

function makeWorkspace(root: string, name: string, description: BuildDescription, only: readonly Tool[] = tools): Workspace {
  const base = path.join(root, name);
  const dirs = { make: path.join(base, 'make'), ninja: path.join(base, 'ninja'), task: path.join(base, 'task') };
  let build: GeneratedBuild | undefined;
  for (const tool of only) build = generate(dirs[tool], description);
  if (!build) throw new Error('no tool');
  // Load each Taskfile once so the timed runs find jiti's transform cache warm, as every run
  // after a Taskfile's first does.
  if (only.includes('task')) timed(node, [taskBin, '-C', dirs.task, '--list'], repo, `${name}: loading the Taskfile`);
  return { name, build, dirs };
}

/** Removes what a build produced and what the tool remembers of it. */
function clean(tool: Tool, dir: string): void {
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'out'));
  if (tool === 'task') fs.rmSync(path.join(dir, '.task'), { recursive: true, force: true });
  if (tool === 'ninja') {
    fs.rmSync(path.join(dir, '.ninja_log'), { force: true });
    fs.rmSync(path.join(dir, '.ninja_deps'), { force: true });
  }
}

/** mtime (ns) of every file in out/. */
function snapshot(dir: string): Map<string, bigint> {
  const stamps = new Map<string, bigint>();
  for (const name of fs.readdirSync(path.join(dir, 'out'))) {
    stamps.set(name, fs.statSync(path.join(dir, 'out', name), { bigint: true }).mtimeNs);
  }
  return stamps;
}

/** Names whose mtime differs between two snapshots (or that appeared or vanished). */
function changedSince(before: Map<string, bigint>, after: Map<string, bigint>): string[] {
  const changed: string[] = [];
  for (const [name, mtime] of after) if (before.get(name) !== mtime) changed.push(name);
  for (const name of before.keys()) if (!after.has(name)) changed.push(name);
  return changed;
}

/** The three tools' out/ folders hold exactly out/0..n-1.txt, byte-identical across tools. */
function checkSameOutputs(ws: Workspace, what: string, among: readonly Tool[] = tools): void {
  const n = ws.build.deps.length;
  for (const tool of among) {
    const count = fs.readdirSync(path.join(ws.dirs[tool], 'out')).length;
    if (count !== n) throw new BenchFailure(`${what}: ${tool} left ${count} files in out/, expected ${n}`);
  }
  const [first, ...rest] = among;
  if (first === undefined) return;
  for (let i = 0; i < n; i++) {
    const expected = fs.readFileSync(path.join(ws.dirs[first], 'out', `${i}.txt`));
    if (expected.length === 0) throw new BenchFailure(`${what}: ${first} wrote an empty out/${i}.txt`);
    for (const tool of rest) {
      const actual = fs.readFileSync(path.join(ws.dirs[tool], 'out', `${i}.txt`));
      if (!actual.equals(expected)) {
        throw new BenchFailure(`${what}: out/${i}.txt differs between ${first} and ${tool}:\n--- ${first}\n${expected}--- ${tool}\n${actual}`);
      }
    }
  }
}

/** Checks a build's own report: ninja's and ours say how much they ran. */
function checkRanCount(tool: Tool, run: Timed, expected: number, what: string): void {
  if (tool === 'task') {
    // The summary goes to stderr, followed by the slowest tasks after a build of 5 s or more.
    if (!new RegExp(`^task: ${expected} ran\\b`, 'm').test(run.stderr)) throw new BenchFailure(`${what}: task should have run ${expected} tasks; its stderr ends: ${run.stderr.trimEnd().split('\n').slice(-8).join('\n')}`);
  } else if (tool === 'ninja') {
    const last = run.stdout.trimEnd().split('\n').pop() ?? '';
    if (!last.startsWith(`[${expected}/${expected}]`)) throw new BenchFailure(`${what}: ninja should have run ${expected} edges; it printed: ${last}`);
  }
}

/** A no-op must say so (ninja, task) and touch no output (all three). */
function checkNoop(tool: Tool, run: Timed, before: Map<string, bigint>, dir: string, what: string): void {
  const changed = changedSince(before, snapshot(dir));
  if (changed.length > 0) throw new BenchFailure(`${what}: ${tool} changed ${changed.length} outputs (${changed.slice(0, 5).join(', ')}) in a no-op build`);
  if (tool === 'task' && !/^task: nothing to do/m.test(run.stderr)) {
    throw new BenchFailure(`${what}: task did not report "nothing to do":\n${run.stderr.split('\n').slice(-5).join('\n')}`);
  }
  if (tool === 'ninja' && !run.stdout.includes('ninja: no work to do.')) {
    throw new BenchFailure(`${what}: ninja did not report "no work to do":\n${run.stdout.split('\n').slice(-5).join('\n')}`);
  }
  if (tool === 'make' && run.stdout.trim() !== '') throw new BenchFailure(`${what}: make -s printed output in a no-op build:\n${run.stdout.slice(0, 500)}`);
}

/** Tasks downstream of task 0 (itself included): what editing src/0.txt must rebuild. */
function coneOf(start: number, deps: readonly (readonly number[])[]): number {
  const reached = new Uint8Array(deps.length);
  reached[start] = 1;
  let count = 1;
  for (let i = start + 1; i < deps.length; i++) {
    if ((deps[i] ?? []).some((d) => reached[d])) {
      reached[i] = 1;
      count++;
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Results

interface Row {
  scenario: string;
  make?: number;
  ninja?: number;
  task?: number;
  /** How the numbers print: milliseconds or KiB. */
  unit: 'ms' | 'KiB';
  target: string;
  /** undefined: no target, or not measured. */
  met?: boolean;
  /** Shown in the met? column after yes/no. */
  detail?: string;
  /** Why the task figure is missing. */
  notMeasured?: string;
}

const rows: Row[] = [];
const samples: string[] = [];
const notes: string[] = [];

function fmtMs(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
const fmtKiB = (kib: number | undefined) => (kib === undefined ? '—' : `${(kib / 1024).toFixed(1)} MiB`);
const fmt = (row: Row, v: number | undefined) => (row.unit === 'KiB' ? fmtKiB(v) : fmtMs(v));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);

function recordSamples(scenario: string, byTool: Partial<Record<Tool | string, number[]>>, unit: 'ms' | 'KiB' = 'ms'): void {
  const parts = Object.entries(byTool).map(([tool, values]) => `${tool} ${(values ?? []).map((v) => (unit === 'ms' ? fmtMs(v) : fmtKiB(v))).join(', ')}`);
  samples.push(`- ${scenario}: ${parts.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const thousands = (n: number) => n.toLocaleString('en-US');

/** `node bin/task.js --list` in the checkout (loads the recipe's Taskfile) against `node -e 0`. */
function recipeLoad(config: Config): number {
  const nodeStart: number[] = [];
  const list: number[] = [];
  timed(node, ['-e', '0'], repo, 'node -e 0');
  let problem: string | undefined;
  for (let r = 0; r < config.loadReps; r++) {
    nodeStart.push(timed(node, ['-e', '0'], repo, 'node -e 0').ms);
    if (problem) continue;
    try {
      const run = timed(node, [taskBin, '--list'], repo, 'recipe Taskfile load (--list)');
      if (!run.stdout.startsWith('tasks:')) throw new BenchFailure(`task --list printed no task list: ${run.stdout.slice(0, 200)}`);
      list.push(run.ms);
    } catch (error) {
      problem = (error as Error).message.split('\n')[0];
    }
  }
  const base = median(nodeStart);
  recordSamples('node -e 0', { node: nodeStart });
  if (problem) {
    rows.push({ scenario: 'recipe Taskfile load (--list)', unit: 'ms', target: `≤ 2× node -e 0 (${fmtMs(base)})`, notMeasured: problem });
    return base;
  }
  const t = median(list);
  recordSamples('recipe Taskfile load (--list)', { task: list });
  rows.push({
    scenario: 'recipe Taskfile load (--list)', unit: 'ms', task: t,
    target: `≤ 2× node -e 0 (${fmtMs(base)}) = ${fmtMs(2 * base)}`, met: t <= 2 * base, detail: `${(t / base).toFixed(2)}× node -e 0`,
  });
  log(`recipe --list ${fmtMs(t)}, node -e 0 ${fmtMs(base)}`);
  return base;
}

/**
 * Builds every tool's copy from clean `reps` times, checking each did all the work and that the
 * three produced the same outputs; returns the times. `note` adds to each progress line.
 */
function cleanBuilds(ws: Workspace, what: string, reps: number, jobs: number, note: (ms: number) => string): Record<Tool, number[]> {
  const n = ws.build.deps.length;
  const times: Record<Tool, number[]> = { make: [], ninja: [], task: [] };
  for (let r = 0; r < reps; r++) {
    for (const tool of tools) {
      clean(tool, ws.dirs[tool]);
      const run = runTool(tool, ws.dirs[tool], jobs, what);
      checkRanCount(tool, run, n, what);
      times[tool].push(run.ms);
      log(`${what} ${r + 1}/${reps}: ${tool} ${fmtMs(run.ms)}${note(run.ms)}`);
    }
    checkSameOutputs(ws, what);
  }
  return times;
}

/** Full builds from clean, `reps` times each tool; leaves every tool's folder built. */
function fullBuild(ws: Workspace, config: Config): void {
  const n = ws.build.deps.length;
  const what = `full build N=${n}`;
  const times = cleanBuilds(ws, what, config.fullReps, config.jobs, () => '');
  const m = { make: median(times.make), ninja: median(times.ninja), task: median(times.task) };
  const scenario = `full build, N = ${thousands(n)} (depth ${ws.build.depth}), -j${config.jobs}`;
  recordSamples(scenario, times);
  rows.push({ scenario, unit: 'ms', ...m, target: '≤ 1.1× ninja', met: m.task <= 1.1 * m.ninja });
}

/** No-op builds of an already built workspace (one untimed warm-up run first). */
function noop(ws: Workspace, reps: number, label: 'small' | 'large', nodeStartMs: number): void {
  const n = ws.build.deps.length;
  const what = `no-op N=${n}`;
  // Our tool does not cache the digest of a file modified less than a second before it hashed
  // it; let that second pass, and let the warm-up run cache them (as any later run would).
  sleepMs(1100);
  const statePath = path.join(ws.dirs.task, '.task', 'state.json');
  for (const tool of tools) {
    const before = snapshot(ws.dirs[tool]);
    const run = runTool(tool, ws.dirs[tool], undefined, `${what} warm-up`);
    checkNoop(tool, run, before, ws.dirs[tool], `${what} warm-up`);
  }
  const times: Record<Tool, number[]> = { make: [], ninja: [], task: [] };
  const stateBefore = fs.statSync(statePath).mtimeMs;
  for (let r = 0; r < reps; r++) {
    for (const tool of tools) {
      const before = snapshot(ws.dirs[tool]);
      const run = runTool(tool, ws.dirs[tool], undefined, what);
      checkNoop(tool, run, before, ws.dirs[tool], what);
      times[tool].push(run.ms);
    }
  }
  if (fs.statSync(statePath).mtimeMs !== stateBefore) notes.push(`${what}: task rewrote .task/state.json during no-op builds (after a warm-up no-op).`);
  const m = { make: median(times.make), ninja: median(times.ninja), task: median(times.task) };
  log(`${what}: make ${fmtMs(m.make)}, ninja ${fmtMs(m.ninja)}, task ${fmtMs(m.task)}`);
  const scenario = `no-op build, N = ${thousands(n)}`;
  recordSamples(scenario, times);
  if (label === 'large') {
    rows.push({ scenario, unit: 'ms', ...m, target: '≤ 2.0× ninja', met: m.task <= 2 * m.ninja });
  } else {
    const bound = nodeStartMs + 2 * m.ninja;
    rows.push({
      scenario, unit: 'ms', ...m,
      target: `≤ node -e 0 (${fmtMs(nodeStartMs)}) + 2× ninja (${fmtMs(2 * m.ninja)}) = ${fmtMs(bound)}`,
      met: m.task <= bound,
    });
  }
  noopWithoutSnapshot(ws, reps, m);
}

/**
 * The first no-op after a change: our tool has no snapshot of the last no-op yet (the warm-up
 * took one, removed before each run here), so it decides task by task, and takes one.
 */
function noopWithoutSnapshot(ws: Workspace, reps: number, others: { make: number; ninja: number }): void {
  const n = ws.build.deps.length;
  const what = `no-op N=${n} without a snapshot`;
  const dir = ws.dirs.task;
  const snapshots = path.join(dir, '.task', 'snapshots');
  if (!fs.existsSync(snapshots)) throw new BenchFailure(`no-op N=${n}: task's warm-up no-op took no snapshot in ${snapshots}`);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    fs.rmSync(snapshots, { recursive: true, force: true });
    const before = snapshot(dir);
    const run = runTool('task', dir, undefined, what);
    checkNoop('task', run, before, dir, what);
    times.push(run.ms);
  }
  log(`${what}: task ${fmtMs(median(times))}`);
  const scenario = `no-op build, N = ${thousands(n)}, the first after a change (task: no snapshot yet, decides task by task)`;
  recordSamples(scenario, { task: times });
  rows.push({ scenario, unit: 'ms', make: others.make, ninja: others.ninja, task: median(times), target: '— (none set; make and ninja as in the row above)' });
}

/** Append a line to src/0.txt, rebuild; each tool must rebuild exactly the downstream cone. */
function incremental(ws: Workspace, config: Config): void {
  const n = ws.build.deps.length;
  const cone = coneOf(0, ws.build.deps);
  const what = `incremental N=${n}`;
  const times: Record<Tool, number[]> = { make: [], ninja: [], task: [] };
  for (let r = 0; r < config.incrementalReps; r++) {
    for (const tool of tools) {
      const dir = ws.dirs[tool];
      fs.appendFileSync(path.join(dir, 'src', '0.txt'), `edit ${r + 1}\n`);
      const before = snapshot(dir);
      const run = runTool(tool, dir, config.jobs, what);
      checkRanCount(tool, run, cone, what);
      const changed = changedSince(before, snapshot(dir)).length;
      if (changed !== cone) throw new BenchFailure(`${what}: ${tool} rewrote ${changed} outputs; the edit reaches ${cone}`);
      times[tool].push(run.ms);
      log(`${what} ${r + 1}/${config.incrementalReps}: ${tool} ${fmtMs(run.ms)}`);
    }
    checkSameOutputs(ws, what);
  }
  const m = { make: median(times.make), ninja: median(times.ninja), task: median(times.task) };
  const scenario = `incremental: append to src/0.txt, N = ${thousands(n)} (${cone} tasks rerun), -j${config.jobs}`;
  recordSamples(scenario, times);
  rows.push({ scenario, unit: 'ms', ...m, target: '— (none set)' });
}

/** The wide sleeping graph at -j = its width: wall time against the critical path. */
function sleepGraph(root: string, config: Config): void {
  const ws = makeWorkspace(root, 'sleep', { n: config.sleepWidth * config.sleepLayers, seed, kind: 'sleep', width: config.sleepWidth, sleepSeconds });
  const n = ws.build.deps.length;
  const critical = ws.build.criticalPathSeconds * 1000;
  const what = `sleep graph ${config.sleepWidth}x${config.sleepLayers}`;
  const times = cleanBuilds(ws, what, config.sleepReps, config.sleepWidth, (ms) => ` (${(ms / critical).toFixed(3)}× critical path)`);
  const m = { make: median(times.make), ninja: median(times.ninja), task: median(times.task) };
  const scenario = `sleep ${sleepSeconds} s × ${n} tasks, ${config.sleepWidth} wide × ${config.sleepLayers} deep, -j${config.sleepWidth}`;
  recordSamples(scenario, times);
  const load = commandsCpu(ws, config.sleepWidth, critical);
  rows.push({
    scenario, unit: 'ms', ...m,
    target: `wall ≤ 1.05× critical path (${fmtMs(critical)}); make ${(m.make / critical).toFixed(3)}×, ninja ${(m.ninja / critical).toFixed(3)}×${load ? `; ${load}` : ''}`,
    met: m.task <= 1.05 * critical,
    detail: `${(m.task / critical).toFixed(3)}×`,
  });
}

/**
 * The CPU the graph's commands need, apart from any scheduler: one more clean build by make
 * (whose own CPU is negligible) under GNU time, which counts the children's user and system
 * time. Said against what the machine's cores can give during the critical path.
 */
function commandsCpu(ws: Workspace, jobs: number, criticalMs: number): string | undefined {
  if (gnuTimeProblem() !== undefined) return undefined;
  clean('make', ws.dirs.make);
  const { figures } = underGnuTime('%U %S', 'make', ['-s', `-j${jobs}`], ws.dirs.make, 'sleep graph: the commands\' CPU (make)');
  const [user, system] = figures.split(' ').map(Number);
  const cpuMs = ((user ?? NaN) + (system ?? NaN)) * 1000;
  const cores = os.availableParallelism();
  log(`sleep graph: the commands use ${fmtMs(cpuMs)} of CPU (under make)`);
  return `the commands alone use ${fmtMs(cpuMs)} of CPU (under make), ${((cpuMs / cores / criticalMs) * 100).toFixed(0)}% of ${cores} cores over the critical path`;
}

/**
 * The large graph, built once by ninja and by task (untimed for the table, but reported), make's
 * folder a copy of ninja's with timestamps kept (make's only state): its first run is a no-op.
 */
function buildLarge(root: string, config: Config): Workspace {
  const n = config.largeN;
  log(`generating N=${n}`);
  const ws = makeWorkspace(root, `large-${n}`, { n, seed, kind: 'cksum' }, ['ninja', 'task']);
  const what = `setup build N=${n}`;
  const ninjaRun = runTool('ninja', ws.dirs.ninja, config.jobs, what);
  checkRanCount('ninja', ninjaRun, n, what);
  log(`${what}: ninja ${fmtMs(ninjaRun.ms)}`);
  const [file, args, cwd] = buildCommand('task', ws.dirs.task, config.jobs);
  let taskMs: number;
  let taskKiB: number | undefined;
  if (gnuTimeProblem() === undefined) {
    const { kib, run } = maxRssKiB(file, args, cwd, `${what} (task)`);
    checkRanCount('task', run, n, what);
    taskMs = run.ms;
    taskKiB = kib;
  } else {
    const run = timed(file, args, cwd, `${what} (task)`);
    checkRanCount('task', run, n, what);
    taskMs = run.ms;
  }
  log(`${what}: task ${fmtMs(taskMs)}${taskKiB ? `, max RSS ${fmtKiB(taskKiB)}` : ''}`);
  fs.cpSync(ws.dirs.ninja, ws.dirs.make, { recursive: true, preserveTimestamps: true });
  checkSameOutputs(ws, what);
  rows.push({
    scenario: `full build, N = ${thousands(n)}, -j${config.jobs} (setup of the no-op; one run)`, unit: 'ms',
    ninja: ninjaRun.ms, task: taskMs, target: '— (make: copy of ninja\'s build)',
  });
  if (taskKiB !== undefined) {
    rows.push({ scenario: `peak memory (max RSS) of that full build, N = ${thousands(n)}`, unit: 'KiB', task: taskKiB, target: '— (none set)' });
  }
  return ws;
}

/** Max RSS of the no-op of the large graph, each tool. */
function peakMemory(ws: Workspace, config: Config): void {
  const n = ws.build.deps.length;
  const scenario = `peak memory (max RSS), no-op, N = ${thousands(n)}`;
  const problem = gnuTimeProblem();
  if (problem) {
    rows.push({ scenario, unit: 'KiB', target: '≤ 150 MiB', notMeasured: problem });
    return;
  }
  const kib: Record<Tool, number[]> = { make: [], ninja: [], task: [] };
  for (let r = 0; r < config.memoryReps; r++) {
    for (const tool of tools) {
      const [file, args, cwd] = buildCommand(tool, ws.dirs[tool], undefined);
      const before = snapshot(ws.dirs[tool]);
      const { kib: k, run } = maxRssKiB(file, args, cwd, `${scenario} (${tool})`);
      checkNoop(tool, run, before, ws.dirs[tool], scenario);
      kib[tool].push(k);
    }
  }
  const m = { make: median(kib.make), ninja: median(kib.ninja), task: median(kib.task) };
  recordSamples(scenario, kib, 'KiB');
  rows.push({ scenario, unit: 'KiB', ...m, target: '≤ 150 MiB', met: m.task <= 150 * 1024 });
}

/**
 * The live display's CPU against the plain lines' on one 60-task build (6 wide × 10 deep, each
 * task printing five lines and a `\r` progress line, then sleeping 0.2 s): the CPU time of the
 * task process alone (its commands not counted), read by the process itself as it exits
 * (`process.cpuUsage()` from a module preloaded with `--import`). Plain lines go into a pipe;
 * the live display gets a pseudo-terminal from script(1), 120 × 40. Clean builds, alternated.
 */
function displayCpu(root: string, config: Config): void {
  const scenario = 'CPU of the task process, 60 tasks printing 6 lines each (6 wide × 10 deep, sleep 0.2 s), -j6: live display (task column) against plain lines';
  if (firstLine('script', ['--version']) === undefined) {
    rows.push({ scenario, unit: 'ms', target: '≤ 1.25× plain lines', notMeasured: 'script(1) is missing: install util-linux' });
    return;
  }
  const dir = path.join(root, 'display');
  generate(dir, { n: 60, seed, kind: 'sleep', width: 6, sleepSeconds });
  const taskfile = path.join(dir, 'Taskfile.ts');
  const quiet = "ctx.exec('sh', ['-c', String(ctx.values.cmd)])";
  const source = fs.readFileSync(taskfile, 'utf8');
  if (!source.includes(quiet)) throw new BenchFailure(`display CPU: the generated Taskfile has no \`${quiet}\` to make chatty`);
  const chatter = 'for i in 1 2 3 4 5; do echo "step $i of 5"; printf "progress $i/5\\r"; done; echo; ';
  fs.writeFileSync(taskfile, source.replace(quiet, `ctx.exec('sh', ['-c', ${JSON.stringify(chatter)} + String(ctx.values.cmd)])`));
  timed(node, [taskBin, '-C', dir, '--list'], repo, 'display CPU: loading the Taskfile');
  const probe = path.join(root, 'cpu-probe.mjs');
  const cpuFile = path.join(root, 'cpu.txt');
  fs.writeFileSync(probe, [
    "import fs from 'node:fs';",
    'process.on(\'exit\', () => { const u = process.cpuUsage(); fs.writeFileSync(process.env.TASK_BENCH_CPU_FILE, String((u.user + u.system) / 1000)); });',
    '',
  ].join('\n'));
  const args = ['--import', pathToFileURL(probe).href, taskBin, '-C', dir, '-j', '6'];
  const cpu: Record<'plain' | 'live', number[]> = { plain: [], live: [] };
  const reps = config.quick ? 2 : 3;
  for (let r = 0; r < reps; r++) {
    for (const mode of ['plain', 'live'] as const) {
      clean('task', dir);
      fs.rmSync(cpuFile, { force: true });
      childEnv.TASK_BENCH_CPU_FILE = cpuFile;
      const what = `display CPU (${mode})`;
      const run = mode === 'plain'
        ? timed(node, [...args, '--progress=plain'], repo, what)
        : timed('script', ['-qefc', `stty cols 120 rows 40; ${[node, ...args, '--progress=live'].map((w) => `'${w}'`).join(' ')}`, '/dev/null'], repo, what);
      delete childEnv.TASK_BENCH_CPU_FILE;
      if (!`${run.stdout}${run.stderr}`.includes('task: 60 ran')) throw new BenchFailure(`${what}: task should have run 60 tasks; it printed: ${run.stdout.slice(-300)}`);
      if (mode === 'live' && !run.stdout.includes('\x1b[?25l')) throw new BenchFailure(`${what}: the live display did not draw`);
      const ms = Number(fs.readFileSync(cpuFile, 'utf8'));
      if (!(ms > 0)) throw new BenchFailure(`${what}: no CPU figure written`);
      cpu[mode].push(ms);
      log(`${what} ${r + 1}/${reps}: ${fmtMs(ms)} CPU in ${fmtMs(run.ms)}`);
    }
  }
  const plain = median(cpu.plain);
  const live = median(cpu.live);
  recordSamples(scenario, { 'plain lines': cpu.plain, 'live display': cpu.live });
  rows.push({
    scenario, unit: 'ms', task: live,
    target: `≤ 1.25× plain lines (${fmtMs(plain)}): the display costs a small fraction of the plain mode's CPU`,
    met: live <= 1.25 * plain,
    detail: `${(live / plain).toFixed(2)}× plain, ${fmtMs(Math.abs(live - plain))} ${live >= plain ? 'more' : 'less'}`,
  });
}

// ---------------------------------------------------------------------------------------------

function table(): string {
  const lines = ['| scenario | make | ninja | task | task/ninja | target | met? |', '|---|---:|---:|---:|---:|---|---|'];
  for (const row of rows) {
    const met = row.notMeasured !== undefined
      ? `not measured: ${row.notMeasured}`
      : row.met === undefined ? '—' : `${row.met ? 'yes' : '**no**'}${row.detail ? ` (${row.detail})` : ''}`;
    lines.push(`| ${row.scenario} | ${fmt(row, row.make)} | ${fmt(row, row.ninja)} | ${fmt(row, row.task)} | ${ratio(row.task, row.ninja)} | ${row.target} | ${met} |`);
  }
  return lines.join('\n');
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.availableParallelism()} CPUs (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`,
    `- node ${process.version}; ${firstLine('make', ['--version']) ?? 'make: missing'}; ninja ${firstLine('ninja', ['--version']) ?? 'missing'}`,
    `- load average at start: ${load}`,
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--quick' && a !== '--keep' && a !== '--display');
  if (unknown.length > 0) {
    process.stderr.write(`usage: npm run bench [-- --quick] [--keep] [--display]\nunknown: ${unknown.join(' ')}\n`);
    return 2;
  }
  const config = argv.includes('--quick') ? quickConfig : fullConfig;
  const keep = argv.includes('--keep');
  const missing = ['make', 'ninja'].filter((tool) => firstLine(tool, ['--version']) === undefined);
  if (missing.length > 0) {
    process.stderr.write(`bench: ${missing.join(' and ')} not found; install them with: apt-get install make ninja-build\n`);
    return 1;
  }
  const header = machine();
  const started = process.hrtime.bigint();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'task-bench-'));
  log(`${config.quick ? 'quick' : 'full'} run in ${root}`);
  let failed = true;
  try {
    if (argv.includes('--display')) displayCpu(root, config);
    else {
      const nodeStartMs = recipeLoad(config);

      log(`generating N=${config.smallN}`);
      const small = makeWorkspace(root, `small-${config.smallN}`, { n: config.smallN, seed, kind: 'cksum' });
      fullBuild(small, config);
      noop(small, config.smallNoopReps, 'small', nodeStartMs);
      incremental(small, config);

      sleepGraph(root, config);
      displayCpu(root, config);

      const large = buildLarge(root, config);
      noop(large, config.largeNoopReps, 'large', nodeStartMs);
      peakMemory(large, config);
    }
    failed = false;
  } catch (error) {
    if (error instanceof BenchFailure) {
      process.stderr.write(`\nbench: FAILED: ${error.message}\n(builds kept in ${root})\n`);
      return 1;
    }
    throw error;
  } finally {
    if (!keep && !failed) fs.rmSync(root, { recursive: true, force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const out = [
    `### ${config.quick ? 'Quick run (--quick: smaller N, fewer repetitions)' : 'Full run'}`,
    '',
    header,
    `- load average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; total ${seconds.toFixed(0)} s`,
    `- medians; every build checked (outputs byte-identical across the three tools, no-ops touch nothing); commands are \`sh -c 'cksum INPUTS > out/N.txt'\` (sleep graph: \`sleep ${sleepSeconds} && cksum ...\`)`,
    '',
    table(),
    '',
    'Samples:',
    '',
    ...samples,
    ...(notes.length > 0 ? ['', 'Notes:', '', ...notes.map((n) => `- ${n}`)] : []),
    ...(keep ? ['', `Builds kept in ${root}`] : []),
    '',
  ];
  process.stdout.write(out.join('\n'));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
