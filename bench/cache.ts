// Benchmarks the cache on the generated builds (bench/generate.ts), side by side in one run:
//
//   cold          a fresh folder, empty caches, filling the local and the remote cache
//   no cache      the same build with --cache-mode=off (what the cache's bookkeeping costs)
//   local cache   a fresh copy of the project, the local cache warm: every task restored
//   remote cache  a fresh copy, an empty local cache, the remote warm: every task downloaded
//
// The remote is a real nginx with WebDAV on a loopback port (test/helpers/nginx.ts).
//
//   node --import jiti/register bench/cache.ts            # N = 1,000 cksum, and the sleep graph
//   node --import jiti/register bench/cache.ts --quick    # N = 200
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCacheServer } from '../test/helpers/nginx.ts';
import { generate, type BuildDescription } from './generate.ts';
import { median } from './median.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const taskBin = path.join(repo, 'bin', 'task.js');
const quick = process.argv.includes('--quick');
const reps = quick ? 1 : 3;

function run(dir: string, env: Record<string, string>, args: string[] = []): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [taskBin, '-j', '2', ...args], { cwd: dir, env: { ...process.env, CI: 'true', ...env }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`task in ${dir} exited ${result.status}: ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
  // The summary is on stderr, the tasks' lines on stdout: both are read.
  return { ms, stdout: `${result.stdout}\n${result.stderr}` };
}

/** The generated build with every task cacheable (its run tasks opt in). */
function project(root: string, name: string, description: BuildDescription): string {
  const dir = path.join(root, name);
  generate(dir, description);
  const file = path.join(dir, 'Taskfile.ts');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    run,\n  }));', '    run,\n    cache: true,\n  }));'));
  return dir;
}


async function scenario(root: string, label: string, description: BuildDescription): Promise<string[]> {
  const server = await startCacheServer();
  try {
    const times: Record<string, number[]> = { cold: [], off: [], local: [], remote: [] };
    let tasks = 0;
    for (let rep = 0; rep < reps; rep++) {
      const base = path.join(root, `${label}-${rep}`);
      const local = path.join(base, 'local-cache');
      // A fresh remote for each repetition: the cold build really is cold.
      fs.rmSync(server.store, { recursive: true, force: true });
      fs.mkdirSync(server.store);
      const cold = run(project(base, 'cold', description), { TASK_CACHE_DIR: local, TASK_CACHE_URL: server.url });
      times.cold!.push(cold.ms);
      tasks = Number(cold.stdout.match(/^task: (\d+) ran/m)?.[1] ?? 0);
      times.off!.push(run(project(base, 'off', description), { TASK_CACHE_DIR: local }, ['--cache-mode=off']).ms);
      const fromLocal = run(project(base, 'local', description), { TASK_CACHE_DIR: local });
      if (!new RegExp(`^task: ${tasks} restored from the cache`, 'm').test(fromLocal.stdout)) throw new Error(`local: not every task was restored:\n${fromLocal.stdout.slice(-500)}`);
      times.local!.push(fromLocal.ms);
      const fromRemote = run(project(base, 'remote', description), { TASK_CACHE_DIR: path.join(base, 'empty-cache'), TASK_CACHE_URL: server.url });
      if (!new RegExp(`${tasks} remote hits`).test(fromRemote.stdout)) throw new Error(`remote: not every task came from the remote:\n${fromRemote.stdout.slice(-500)}`);
      times.remote!.push(fromRemote.ms);
      fs.rmSync(base, { recursive: true, force: true });
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<string, number>;
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return [
      `| ${label} (${tasks} tasks) | ${s(m.off!)} | ${s(m.cold!)} | ${s(m.local!)} | ${s(m.remote!)} | ${(m.cold! / m.local!).toFixed(1)}x | ${(m.cold! / m.remote!).toFixed(1)}x |`,
    ];
  } finally {
    await server.stop();
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'task-bench-cache-'));
try {
  const rows = [
    '| build | no cache | cold (filling both caches) | local cache | remote cache | cold / local | cold / remote |',
    '|---|---|---|---|---|---|---|',
    ...(await scenario(root, 'cksum graph', { n: quick ? 200 : 1000, seed: 1, kind: 'cksum' })),
    ...(await scenario(root, 'sleep graph (0.2 s a task)', { n: quick ? 48 : 96, seed: 1, kind: 'sleep', width: 16, sleepSeconds: 0.2 })),
  ];
  process.stdout.write(`${rows.join('\n')}\n\n(median of ${reps}; ${os.availableParallelism()} CPUs, -j 2, nginx on loopback)\n`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
