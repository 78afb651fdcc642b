// Benchmarks `task` against ninja on a generated C project (bench/c-generate.ts), side by side in
// one run: a full build, a no-op, and a rebuild after a header edit. Prints a markdown report.
//
//   node --import jiti/register bench/c-run.ts            # 300 files, 3 repetitions
//   node --import jiti/register bench/c-run.ts --quick    # 100 files, 2 repetitions
//   ... --files N --reps N --deps declared|depfile --keep
//
// Needs cc and ninja; GNU time (/usr/bin/time) for the CPU columns. Installs nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateC, type CProject, type HeaderDeps } from './c-generate.ts';
import { median } from './median.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const taskBin = path.join(repo, 'bin', 'task.js');
type Tool = 'ninja' | 'task';
const tools: readonly Tool[] = ['ninja', 'task'];
const jobs = 2;

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
};
const quick = argv.includes('--quick');
const files = Number(option('files', quick ? '100' : '300'));
const reps = Number(option('reps', quick ? '2' : '3'));
const noopReps = reps + 2;
const deps = option('deps', 'depfile') as HeaderDeps;

class BenchFailure extends Error {}

interface Sample {
  ms: number;
  /** User + system CPU of the tool and every process it waited for (GNU time), if measured. */
  cpuMs: number | undefined;
  stdout: string;
}

const hasGnuTime = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { encoding: 'utf8' }).status === 0;

function run(tool: Tool, dir: string, build: boolean, what: string): Sample {
  const command = tool === 'ninja' ? ['ninja', ...(build ? [`-j${jobs}`] : [])] : [process.execPath, taskBin, '-C', dir, ...(build ? ['-j', String(jobs)] : [])];
  const timeFile = path.join(os.tmpdir(), `task-c-bench-${process.pid}`);
  const full = hasGnuTime ? ['/usr/bin/time', '-f', '%U %S', '-o', timeFile, ...command] : command;
  const start = process.hrtime.bigint();
  const result = spawnSync(full[0]!, full.slice(1), { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new BenchFailure(`${what} (${tool}) exited ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`);
  let cpuMs: number | undefined;
  if (hasGnuTime) {
    const [user, system] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    cpuMs = (user! + system!) * 1000;
    fs.rmSync(timeFile, { force: true });
  }
  return { ms, cpuMs, stdout: result.stdout };
}

const mtimes = (project: CProject) => new Map(project.objects.map((o) => [o, fs.statSync(path.join(project.dir, o)).mtimeMs]));

function clean(dir: string): void {
  for (const name of ['obj', 'app', '.task', '.ninja_log', '.ninja_deps']) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/** Every object and the program exist, and each object is byte for byte the other tool's. */
function sameObjects(projects: Record<Tool, CProject>, what: string): void {
  for (const object of [...projects.ninja.objects, 'app']) {
    const [a, b] = tools.map((tool) => fs.readFileSync(path.join(projects[tool].dir, object)));
    if (!a!.equals(b!)) throw new BenchFailure(`${what}: ${object} differs between ninja and task`);
  }
  for (const tool of tools) {
    const out = spawnSync(path.join(projects[tool].dir, 'app'), [], { encoding: 'utf8' });
    if (out.status !== 0) throw new BenchFailure(`${what}: ${tool}'s app does not run`);
  }
}

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

interface Row {
  scenario: string;
  target?: number;
  samples: Record<Tool, Sample[]>;
}

function main(): void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'task-c-bench-'));
  const started = Date.now();
  const loadStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const projects = Object.fromEntries(tools.map((tool) => [tool, generateC(path.join(root, tool), { files, headers: 24, seed: 1, deps })])) as Record<Tool, CProject>;
  const rows: Row[] = [];
  const progress = (text: string) => process.stderr.write(`${text}\n`);
  try {
    // Full builds, from clean, the tools' order alternating each repetition.
    const full: Row = { scenario: `full build, ${files + 1} objects + link, -j${jobs}`, target: 1.1, samples: { ninja: [], task: [] } };
    for (let rep = 0; rep < reps; rep++) {
      for (const tool of rep % 2 === 0 ? tools : [...tools].reverse()) {
        clean(projects[tool].dir);
        full.samples[tool].push(run(tool, projects[tool].dir, true, 'full build'));
        progress(`full build ${rep + 1}/${reps} ${tool}: ${seconds(full.samples[tool].at(-1)!.ms)}`);
      }
      sameObjects(projects, 'full build');
    }
    rows.push(full);

    // No-ops: one untimed warm-up each (our tool takes its snapshot), then timed runs.
    const noop: Row = { scenario: 'no-op build', samples: { ninja: [], task: [] } };
    for (const tool of tools) run(tool, projects[tool].dir, false, 'no-op warm-up');
    for (let rep = 0; rep < noopReps; rep++) {
      for (const tool of tools) {
        const before = mtimes(projects[tool]);
        const sample = run(tool, projects[tool].dir, false, 'no-op');
        const said = tool === 'ninja' ? /no work to do/ : /nothing to do/;
        if (!said.test(sample.stdout)) throw new BenchFailure(`no-op (${tool}) did not say so: ${sample.stdout}`);
        const touched = [...mtimes(projects[tool])].filter(([o, t]) => before.get(o) !== t);
        if (touched.length > 0) throw new BenchFailure(`no-op (${tool}) rewrote ${touched[0]![0]}`);
        noop.samples[tool].push(sample);
      }
    }
    rows.push(noop);

    // A header edit that changes the code of its includers (a new value of a macro they use),
    // so that both tools recompile exactly them and relink.
    const edit: Row = {
      scenario: `header edit: ${projects.ninja.editedHeader} (${projects.ninja.includers.length} includers recompiled, then the link), -j${jobs}`,
      target: 1.2,
      samples: { ninja: [], task: [] },
    };
    for (let rep = 0; rep < reps; rep++) {
      for (const tool of rep % 2 === 0 ? tools : [...tools].reverse()) {
        const project = projects[tool];
        const file = path.join(project.dir, project.editedHeader);
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/#define H0_SCALE \d+/, `#define H0_SCALE ${100 + rep}`));
        const before = mtimes(project);
        edit.samples[tool].push(run(tool, project.dir, true, 'header edit'));
        const rebuilt = [...mtimes(project)].filter(([o, t]) => before.get(o) !== t).map(([o]) => o).sort();
        if (JSON.stringify(rebuilt) !== JSON.stringify([...project.includers].sort())) {
          throw new BenchFailure(`header edit (${tool}) rebuilt ${rebuilt.length} objects, not the ${project.includers.length} includers`);
        }
        progress(`header edit ${rep + 1}/${reps} ${tool}: ${seconds(edit.samples[tool].at(-1)!.ms)}`);
      }
      sameObjects(projects, 'header edit');
    }
    rows.push(edit);
  } finally {
    if (argv.includes('--keep')) progress(`kept: ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }

  const ninjaVersion = spawnSync('ninja', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const ccVersion = spawnSync('cc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const lines = [
    `- date: ${new Date().toISOString()}; ${os.availableParallelism()} CPUs; node ${process.version}; ninja ${ninjaVersion}; ${ccVersion}`,
    `- ${files} generated .c files (+ main.c), 24 shared headers, \`cc -O2\`; the Taskfile's header dependencies: ${deps === 'depfile' ? '`depfile` (-MMD -MF), as ninja' : 'declared in `inputs` by the generator'}; link in a pool of depth 1`,
    `- load average at start: ${loadStart}; at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`,
    '- medians; objects byte-identical between the tools after every build; CPU is user + system of the tool and everything it waited for (GNU time)',
    '',
    '| scenario | ninja | task | task/ninja | ninja CPU | task CPU | target | met? |',
    '|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    const [n, t] = tools.map((tool) => median(row.samples[tool].map((s) => s.ms)));
    const [nc, tc] = tools.map((tool) => (hasGnuTime ? seconds(median(row.samples[tool].map((s) => s.cpuMs!))) : '—'));
    const ratio = t! / n!;
    const target = row.target === undefined ? '—' : `≤ ${row.target}× ninja`;
    const met = row.target === undefined ? '—' : ratio <= row.target ? 'yes' : '**no**';
    lines.push(`| ${row.scenario} | ${seconds(n!)} | ${seconds(t!)} | ${ratio.toFixed(2)}× | ${nc} | ${tc} | ${target} | ${met} |`);
  }
  lines.push('', 'Samples:', '');
  for (const row of rows) lines.push(`- ${row.scenario}: ${tools.map((tool) => `${tool} ${row.samples[tool].map((s) => seconds(s.ms)).join(', ')}`).join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof BenchFailure)) throw error;
  process.stderr.write(`bench: ${error.message}\n`);
  process.exit(1);
}
