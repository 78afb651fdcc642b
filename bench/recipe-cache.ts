// Benchmarks the cache on the recipe itself, side by side in one run: `task all` (debootstrap of
// the rootfs, go build of execd and execc, the container booted and smoke-tested)
//
//   cold          a fresh copy of the recipe, empty local and remote caches, filling both
//   local cache   a second copy (another machine name and machines folder), the cold build's
//                 local cache, no remote: the rootfs and the binaries restored from the folder
//   remote cache  a third copy, an empty local cache, the remote the cold build filled: what a
//                 second host pointed at the team's cache server does
//
// Each copy lives in a temporary folder with every parameter pointed inside it, exactly as
// test/recipe.e2e.test.ts does (test/helpers/recipe-rig.ts): never /etc/hosts,
// /var/lib/machines or /etc/systemd. One container at a time: each build's container, link,
// firewall table and cgroups are removed, by pid and by the names the rig made up, before the next
// build starts, and the run checks they are gone. The remote is a real nginx with WebDAV on a
// loopback port (test/helpers/nginx.ts). Needs root, nginx, debootstrap, systemd-nspawn, go,
// iproute2 and nft, and Debian's package mirror for the cold build. About 15 minutes here.
//
//   node --import jiti/register bench/recipe-cache.ts
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './median.ts';
import { startCacheServer } from '../test/helpers/nginx.ts';
import { RecipeRig } from '../test/helpers/recipe-rig.ts';
import { firewallTable } from '../tasks/lib/nftables.ts';
import { finished, repo, type CliResult } from '../test/helpers/cli-rig.ts';

const needed = ['nginx', 'debootstrap', 'systemd-nspawn', 'go', 'ip', 'nsenter', 'nft'];
const missing = needed.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
if (process.getuid?.() !== 0 || missing.length > 0) {
  process.stderr.write(`bench/recipe-cache.ts: needs root and ${needed.join(', ')}${missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''}\n`);
  process.exit(1);
}

const hosts = '127.0.0.1\tlocalhost\n';
const rigs: RecipeRig[] = [];
const keep = fs.mkdtempSync(path.join(os.tmpdir(), 'task-bench-recipe-'));

/** Ctrl-C: the running build's process group and every container the run started go with it. */
function cleanupAll(): void {
  for (const rig of rigs.splice(0)) rig.cleanup();
  fs.rmSync(keep, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanupAll();
  process.exit(130);
});

interface Row {
  label: string;
  ms: number;
  ran: string;
  cache: string;
  /** The slowest tasks, with their times as the build printed them. */
  slowest: string;
}

/** formatDuration's text (120ms, 3.2s, 1m05s) back to milliseconds. */
function parseDuration(text: string): number {
  const m = text.match(/^(?:(\d+)m)?(?:([\d.]+)s)?(?:(\d+)ms)?$/);
  return m ? Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0) : 0;
}

/** The tasks that took longest, from the lines the build printed as each ended. */
function slowestTasks(stdout: string, count = 4): string {
  const ended = [...stdout.matchAll(/^(?:\[\d+\/\d+\] )?([\w-]+): (done|restored from the (?:local|remote) cache) in (\S+)$/gm)];
  return ended
    .map(([, task, how, took]) => ({ task: how === 'done' ? task! : `${task} (restored)`, took: took!, ms: parseDuration(took!) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count)
    .map((t) => `${t.task} ${t.took}`)
    .join(', ');
}

async function build(label: string, rig: RecipeRig): Promise<Row> {
  process.stderr.write(`${label}: task all in ${rig.project} (machine ${rig.machine})\n`);
  const start = process.hrtime.bigint();
  const result = await rig.task('all');
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.code !== 0) throw new Error(`${label}: task all exited ${result.code}:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  const ran = result.stderr.match(/^task: \d+ ran.*$/m)?.[0] ?? '';
  const cache = result.stderr.match(/^task: cache: .*$/m)?.[0] ?? '';
  process.stderr.write(`${label}: ${(ms / 1000).toFixed(1)} s; ${ran}; ${cache}\n`);
  return { label, ms, ran: ran.replace(/^task: /, ''), cache: cache.replace(/^task: cache: /, ''), slowest: slowestTasks(result.stdout) };
}

/** Wall time of a command, spawned as the rig spawns `task`. */
async function wallOf(run: () => Promise<CliResult>): Promise<{ ms: number; result: CliResult }> {
  const start = process.hrtime.bigint();
  const result = await run();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}


/**
 * Issue 15's "`npx task hosts` no-op at most 2x `node -e 0`": with the container up and its
 * entry written, `node bin/task.js hosts` (each check asked, the snapshot compared) against
 * `node -e 0`, alternated, 9 each, medians. A second past the build first, so the warm-up takes
 * the snapshot (no snapshot covers a file modified within the last second).
 */
async function hostsNoOp(rig: RecipeRig): Promise<{ task: number; node: number; samples: string }> {
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await rig.task('hosts');
  const task: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < 9; i++) {
    const run = await wallOf(() => rig.task('hosts'));
    if (run.result.code !== 0 || !/nothing to do/.test(run.result.stderr)) throw new Error(`task hosts was no no-op:\n${run.result.stdout}\n${run.result.stderr}`);
    task.push(run.ms);
    node.push((await wallOf(() => finished(spawn(process.execPath, ['-e', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })))).ms);
  }
  const shown = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(', ');
  return { task: median(task), node: median(node), samples: `task hosts: ${shown(task)} ms; node -e 0: ${shown(node)} ms` };
}

/** Stops the rig's container and removes its folder, then checks that nothing of it is left. */
function finish(rig: RecipeRig): void {
  rig.cleanup();
  rigs.splice(rigs.indexOf(rig), 1);
  const left = [
    fs.existsSync(`/sys/class/net/ve-${rig.machine}`) ? `link ve-${rig.machine}` : '',
    spawnSync('nft', ['list', 'table', 'inet', firewallTable(rig.machine)], { stdio: 'ignore' }).status === 0 ? `nft table ${firewallTable(rig.machine)}` : '',
    fs.existsSync(rig.dir) ? rig.dir : '',
  ].filter(Boolean);
  if (left.length > 0) throw new Error(`left behind after ${rig.machine}: ${left.join(', ')}`);
}

// The same question bin/task.js asks before it runs the bundle.
const { bundleIsCurrent } = createRequire(import.meta.url)('../bin/bundle-state.js') as { bundleIsCurrent(): boolean };
const bundled = bundleIsCurrent();

function newRig(env: Record<string, string>): RecipeRig {
  const rig = new RecipeRig(hosts);
  rigs.push(rig);
  rig.env = env;
  // The engine bundled, as an installed copy runs it (copied after src/, so it counts as current).
  if (bundled) fs.cpSync(path.join(repo, 'dist'), path.join(rig.project, 'dist'), { recursive: true });
  return rig;
}

const server = await startCacheServer();
try {
  const rows: Row[] = [];
  // The three copies are made first: each build runs the same engine and recipe.
  const cold = newRig({ TASK_CACHE_URL: server.url });
  const local = newRig({ TASK_CACHE_DIR: path.join(keep, 'local-cache'), TASK_CACHE_URL: '' });
  const remote = newRig({ TASK_CACHE_URL: server.url });
  rows.push(await build('cold', cold));
  // The cold build's local cache outlives its folder: the second copy builds from it.
  fs.renameSync(cold.cacheDir, path.join(keep, 'local-cache'));
  finish(cold);

  rows.push(await build('local cache', local));
  finish(local);

  rows.push(await build('remote cache', remote));
  const noOp = await hostsNoOp(remote);
  finish(remote);

  const storeBytes = spawnSync('du', ['-sb', server.store], { encoding: 'utf8' }).stdout.split('\t')[0];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    '| recipe `task all` | wall time | cold / this | tasks (the build\'s own time) | cache | slowest tasks |',
    '|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.label} | ${s(row.ms)} | ${(rows[0]!.ms / row.ms).toFixed(1)}x | ${row.ran} | ${row.cache} | ${row.slowest} |`),
  ];
  const [load1, load5] = os.loadavg();
  lines.push('', `\`task hosts\` with nothing to do: ${noOp.task.toFixed(0)} ms, \`node -e 0\`: ${noOp.node.toFixed(0)} ms, ${(noOp.task / noOp.node).toFixed(2)}x (target: at most 2x; medians of 9, alternated; ${noOp.samples})`);
  process.stdout.write(`${lines.join('\n')}\n\n(the engine ${bundled ? 'bundled (dist/)' : 'from src/ through jiti: run `npm run build` first for the bundle'}; ${os.availableParallelism()} CPUs, load average ${load1!.toFixed(1)} / ${load5!.toFixed(1)} at the end; nginx on loopback holding ${storeBytes} bytes)\n`);
} finally {
  cleanupAll();
  await server.stop();
}
