// Generates one synthetic build three ways: a Taskfile.ts for `task`, a Makefile and a
// build.ninja, with the same graph, the same shell commands and the same source files, so that
// the three tools can be timed on exactly the same work and their outputs compared byte for byte.
//
//   node --import jiti/register bench/generate.ts DIR [--n 1000] [--fan-in 3] [--seed 1] [--kind cksum|wc|sleep]
//                                                     [--width 16] [--sleep 0.2]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * - `cksum`: each task writes `cksum` of its source file and its dependencies' outputs (one line
 *   per file: checksum, size, name). Any edit changes every output downstream of it, so all three
 *   tools redo the same work (no early cutoff).
 * - `wc`: the same with `wc -c` (byte counts only: an edit that keeps the sizes stops
 *   propagating, and our tool's early cutoff then skips work that make and ninja redo).
 * - `sleep`: a wide layered graph (`width` tasks a layer, `n / width` layers), each task sleeping
 *   `sleepSeconds` before writing its cksum: the critical path is `layers x sleepSeconds`.
 * One program a task (`sh -c` execs it): spawning processes dominates these builds, so fewer per
 * task leaves more of the time to the tools themselves.
 */
export type CommandKind = 'cksum' | 'wc' | 'sleep';

export interface BuildDescription {
  /** Number of tasks (for `sleep`, rounded up to a multiple of `width`). */
  n: number;
  /** Dependencies of a task, at most (not used by `sleep`, where each task has 2). */
  fanIn?: number;
  seed: number;
  kind: CommandKind;
  /** `sleep` only: tasks per layer, i.e. how many can run at once. */
  width?: number;
  /** `sleep` only: seconds each task sleeps. */
  sleepSeconds?: number;
}

export interface GeneratedBuild {
  dir: string;
  /** Dependencies of task i (indices of earlier tasks). */
  deps: number[][];
  /** Tasks nothing depends on: the dependencies of `all`. */
  sinks: number[];
  /** Tasks on the longest chain (the graph's depth). */
  depth: number;
  /** Shell command of task i, as all three build files run it. */
  commands: string[];
  /** `sleep` only: layers x sleep seconds; otherwise 0. */
  criticalPathSeconds: number;
  width: number;
}

/** The engine's public API, by absolute path, as a Taskfile anywhere imports it. */
export const engineIndex = fileURLToPath(new URL('../src/index.ts', import.meta.url));

/** mulberry32: a small seeded generator, so a seed always gives the same graph. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Each task depends on 1..fanIn earlier tasks (about 1 in 20 on none), picked from a window of
 * recent ones (6 sqrt(n) wide, nearer ones likelier): the graph is deep (57 tasks on the longest
 * chain at n = 1,000 with seed 1, 151 at 10,000) without being a chain.
 */
export function randomDag(n: number, fanIn: number, seed: number): number[][] {
  const rand = random(seed);
  const window = Math.max(4, Math.round(6 * Math.sqrt(n)));
  const deps: number[][] = [];
  for (let i = 0; i < n; i++) {
    const picked = new Set<number>();
    if (i > 0 && rand() >= 0.05) {
      const count = 1 + Math.floor(rand() * fanIn);
      for (let k = 0; k < count; k++) {
        // Mostly recent: the offset's density falls linearly across the window.
        const offset = 1 + Math.floor(Math.min(rand(), rand()) * Math.min(window, i));
        picked.add(i - offset);
      }
    }
    deps.push([...picked].sort((a, b) => a - b));
  }
  return deps;
}

/** `layers` layers of `width` tasks; task (l, c) depends on (l-1, c) and (l-1, c+1 mod width). */
export function layeredDag(width: number, layers: number): number[][] {
  const deps: number[][] = [];
  for (let l = 0; l < layers; l++) {
    for (let c = 0; c < width; c++) {
      if (l === 0) deps.push([]);
      else deps.push([...new Set([(l - 1) * width + c, (l - 1) * width + ((c + 1) % width)])].sort((a, b) => a - b));
    }
  }
  return deps;
}

/** The files task i reads: its own source, then its dependencies' outputs. */
export function inputsOf(i: number, deps: readonly number[]): string[] {
  return [`src/${i}.txt`, ...deps.map((d) => `out/${d}.txt`)];
}

/**
 * The shell command of task i: one program (the shell execs it), reading the task's inputs and
 * writing its output. The Taskfile builds the same string with `commandSource`.
 */
export function commandOf(kind: CommandKind, i: number, deps: readonly number[], sleepSeconds: number): string {
  const files = inputsOf(i, deps).join(' ');
  if (kind === 'wc') return `wc -c ${files} > out/${i}.txt`;
  if (kind === 'sleep') return `sleep ${sleepSeconds} && cksum ${files} > out/${i}.txt`;
  return `cksum ${files} > out/${i}.txt`;
}

/** JavaScript source of `commandOf` specialised to one kind, for the generated Taskfile. */
function commandSource(kind: CommandKind, sleepSeconds: number): string {
  const program = kind === 'wc' ? 'wc -c' : 'cksum';
  const prefix = kind === 'sleep' ? `sleep ${sleepSeconds} && ` : '';
  return `(i, files) => \`${prefix}${program} \${files.join(' ')} > out/\${i}.txt\``;
}

export function depthOf(deps: readonly (readonly number[])[]): number {
  const depth: number[] = [];
  let max = 0;
  for (let i = 0; i < deps.length; i++) {
    let d = 1;
    for (const dep of deps[i] ?? []) d = Math.max(d, (depth[dep] ?? 0) + 1);
    depth.push(d);
    max = Math.max(max, d);
  }
  return max;
}

const makeEscape = (s: string) => s.replaceAll('$', '$$$$');
const ninjaEscape = (s: string) => s.replaceAll('$', '$$$$').replaceAll('\n', '$\n');

/** Writes Taskfile.ts, Makefile, build.ninja, src/ and an empty out/ into `dir` (created if needed). */
export function generate(dir: string, description: BuildDescription): GeneratedBuild {
  const { seed, kind } = description;
  const fanIn = description.fanIn ?? 3;
  const sleepSeconds = description.sleepSeconds ?? 0.2;
  const width = kind === 'sleep' ? (description.width ?? 16) : 0;
  const layers = kind === 'sleep' ? Math.ceil(description.n / width) : 0;
  const deps = kind === 'sleep' ? layeredDag(width, layers) : randomDag(description.n, fanIn, seed);
  const n = deps.length;
  const hasDependent = new Uint8Array(n);
  for (const list of deps) for (const d of list) hasDependent[d] = 1;
  const sinks: number[] = [];
  for (let i = 0; i < n; i++) if (!hasDependent[i]) sinks.push(i);
  const commands = deps.map((list, i) => commandOf(kind, i, list, sleepSeconds));

  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
  const rand = random(seed ^ 0x5eed);
  for (let i = 0; i < n; i++) {
    // Small sources of varied length, so outputs differ from task to task.
    const words = 1 + Math.floor(rand() * 8);
    const lines = [`source ${i}`];
    for (let w = 0; w < words; w++) lines.push(`word ${Math.floor(rand() * 1e6)}`);
    fs.writeFileSync(path.join(dir, 'src', `${i}.txt`), `${lines.join('\n')}\n`);
  }

  // Taskfile.ts: the graph as one compact array and a loop; one `run` function object for every
  // task, reading its command from `values` (so the command is part of each fingerprint).
  const taskfile = `// Generated by bench/generate.ts: ${JSON.stringify({ n, fanIn, seed, kind, width, sleepSeconds })}
import { task, type TaskContext, type TaskRef } from ${JSON.stringify(engineIndex)};

const graph: number[][] = ${JSON.stringify(deps)};
const command: (i: number, files: string[]) => string = ${commandSource(kind, sleepSeconds)};
const run = (ctx: TaskContext) => ctx.exec('sh', ['-c', String(ctx.values.cmd)]);

const refs: TaskRef[] = [];
const hasDependent = new Uint8Array(graph.length);
for (let i = 0; i < graph.length; i++) {
  const deps = graph[i]!;
  const inputs = [\`src/\${i}.txt\`];
  for (const d of deps) {
    inputs.push(\`out/\${d}.txt\`);
    hasDependent[d] = 1;
  }
  refs.push(task(\`t\${i}\`, {
    inputs,
    deps: deps.map((d) => refs[d]!),
    outputs: [\`out/\${i}.txt\`],
    values: { cmd: command(i, inputs) },
    run,
  }));
}

export default task('all', { deps: refs.filter((_, i) => !hasDependent[i]) });
`;
  fs.writeFileSync(path.join(dir, 'Taskfile.ts'), taskfile);

  // Makefile: one explicit rule a task; no built-in rules or suffixes, so make does no implicit
  // rule search (its fastest configuration, and what a generated Makefile would do).
  const make: string[] = [
    '# Generated by bench/generate.ts',
    'MAKEFLAGS += --no-builtin-rules --no-builtin-variables',
    '.SUFFIXES:',
    '.PHONY: all',
    `all: ${sinks.map((i) => `out/${i}.txt`).join(' ')}`,
    '',
  ];
  for (let i = 0; i < n; i++) {
    make.push(`out/${i}.txt: ${inputsOf(i, deps[i] ?? []).join(' ')}`, `\t${makeEscape(commands[i] ?? '')}`);
  }
  fs.writeFileSync(path.join(dir, 'Makefile'), `${make.join('\n')}\n`);

  // build.ninja: one rule whose command is a per-build variable.
  const ninja: string[] = ['# Generated by bench/generate.ts', 'rule sh', '  command = $cmd', '  description = t$id', ''];
  for (let i = 0; i < n; i++) {
    ninja.push(`build out/${i}.txt: sh ${inputsOf(i, deps[i] ?? []).join(' ')}`, `  cmd = ${ninjaEscape(commands[i] ?? '')}`, `  id = ${i}`);
  }
  ninja.push('', `build all: phony ${sinks.map((i) => `out/${i}.txt`).join(' ')}`, 'default all', '');
  fs.writeFileSync(path.join(dir, 'build.ninja'), ninja.join('\n'));

  return { dir, deps, sinks, depth: depthOf(deps), commands, criticalPathSeconds: layers * sleepSeconds, width };
}

function cli(argv: string[]): void {
  const dir = argv[0];
  if (!dir || dir.startsWith('-')) {
    process.stderr.write('usage: generate.ts DIR [--n N] [--fan-in K] [--seed S] [--kind cksum|wc|sleep] [--width W] [--sleep SECONDS]\n');
    process.exit(2);
  }
  const option = (name: string, fallback: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
  };
  const kind = option('kind', 'cksum');
  if (kind !== 'cksum' && kind !== 'wc' && kind !== 'sleep') throw new Error(`unknown kind ${kind}`);
  const built = generate(path.resolve(dir), {
    n: Number(option('n', '1000')),
    fanIn: Number(option('fan-in', '3')),
    seed: Number(option('seed', '1')),
    kind,
    width: Number(option('width', '16')),
    sleepSeconds: Number(option('sleep', '0.2')),
  });
  process.stdout.write(`${built.dir}: ${built.deps.length} tasks, depth ${built.depth}, ${built.sinks.length} sinks\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) cli(process.argv.slice(2));
