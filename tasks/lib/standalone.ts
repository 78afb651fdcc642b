// Standalone host mode: no systemd as PID 1 (a CI runner, a plain VM). systemd-nspawn is started
// detached, inside cgroups that carry the limits; the host end of the veth gets a link-local
// address; the pid and the console log are kept in the recipe's runtime folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TaskFailure, type TaskContext } from '../../src/index.ts';
import { createCgroups, createRequestCgroups, planCgroups, planRequestCgroups, removeCgroups, removeRequestCgroups, requestCgroupDirs } from './cgroup.ts';
import { requestCgroupsInContainer } from './chroot-files.ts';
import { hostAddress, waitForAddress, type Container } from './container.ts';
import { containerOomScoreAdjust, containerTmpfs } from './nspawn-settings.ts';
import type { RecipeParams } from './params.ts';
import { commandLineOf, containerLeader, linkExists, processAlive } from './procfs.ts';

const bootTimeoutSeconds = 180;
const stopTimeoutMs = 60_000;

export function standalonePaths(p: Pick<RecipeParams, 'runtimeDir'>) {
  return { pid: path.join(p.runtimeDir, 'nspawn.pid'), console: path.join(p.runtimeDir, 'console.log') };
}

/** The pid of our systemd-nspawn for this rootfs, if it is still running. */
export function nspawnPid(p: Pick<RecipeParams, 'runtimeDir' | 'rootfs'>): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(standalonePaths(p).pid, 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  // A recycled pid is some other process: it must be systemd-nspawn on this very rootfs.
  const words = commandLineOf(pid);
  return words.some((w) => w.endsWith('systemd-nspawn')) && words.includes(p.rootfs) ? pid : undefined;
}

function consoleTail(p: RecipeParams, lines = 25): string {
  try {
    const text = fs.readFileSync(standalonePaths(p).console, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console log)';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, ctx: TaskContext, timeoutMs: number, test: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (ctx.signal.aborted) throw new TaskFailure(`interrupted while waiting for ${what}`);
    if (Date.now() > until) throw new TaskFailure(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * `systemctl is-system-running --wait` inside the container, asked again while systemd is not up
 * yet to answer it ("offline"). Returns running, degraded, or what it said last.
 */
async function waitUntilBooted(ctx: TaskContext, leader: number, gone: () => boolean): Promise<string> {
  const until = Date.now() + bootTimeoutSeconds * 1000;
  let state = '';
  while (Date.now() < until && !gone()) {
    const asked = await ctx.exec('nsenter', ['-t', String(leader), '-a', 'systemctl', 'is-system-running', '--wait'], {
      reject: false,
      quiet: true,
      timeout: Math.max(1000, until - Date.now()),
    });
    state = asked.stdout.trim();
    if (state === 'running' || state === 'degraded' || state === 'stopping') return state;
    await sleep(500);
  }
  return state;
}

export function standaloneContainer(p: RecipeParams): Container {
  const paths = standalonePaths(p);
  const link = `ve-${p.machine}`;
  const cgroups = () => planCgroups(`execd-builder-${p.machine}`, p.cpuQuota, p.memoryMax);
  const requestCgroups = () => planRequestCgroups(cgroups(), p.memoryMax);

  /** SIGKILL to the container's init (its whole pid namespace) and to systemd-nspawn. */
  const killNow = (nspawn: number) => {
    for (const pid of [containerLeader(nspawn), nspawn]) {
      if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(paths.pid, { force: true });
  };

  /**
   * A container whose systemd-nspawn was killed keeps running, and holds the link: its processes
   * are the ones left in this machine's cgroups, killed here by pid.
   */
  const killStrays = async (ctx: TaskContext) => {
    const procs = [...requestCgroupDirs(requestCgroups()), ...cgroups().map((plan) => plan.dir)].map((dir) => path.join(dir, 'cgroup.procs'));
    const pids = () => procs.flatMap((file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []));
    const strays = pids();
    if (strays.length === 0) return;
    ctx.log(`killing ${strays.length} process(es) left in the container's cgroups by an earlier run`);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await waitFor('the old container to go', ctx, 10_000, () => pids().length === 0 && !linkExists(link));
  };

  /** Waits for the link, the init and the boot, then routes the container's address to the link. */
  const bootAndAddress = async (ctx: TaskContext, nspawn: number) => {
    const failed = () => !processAlive(nspawn);
    const orFail = async (what: string, timeoutMs: number, test: () => boolean) => {
      try {
        await waitFor(what, ctx, timeoutMs, () => test() || failed());
      } catch (error) {
        throw new TaskFailure(`${(error as Error).message}; console log (${paths.console}):\n${consoleTail(p)}`);
      }
      if (failed()) throw new TaskFailure(`systemd-nspawn exited while waiting for ${what}; console log (${paths.console}):\n${consoleTail(p)}`);
    };
    await orFail(`the link ${link}`, 30_000, () => linkExists(link));
    await ctx.exec('ip', ['addr', 'replace', `${hostAddress(p.machine)}/16`, 'dev', link, 'noprefixroute']);
    await ctx.exec('ip', ['link', 'set', link, 'up']);
    let leader: number | undefined;
    await orFail('the container init', 30_000, () => (leader = containerLeader(nspawn)) !== undefined);
    const state = await waitUntilBooted(ctx, leader!, () => failed());
    if (state !== 'running') {
      const failedUnits = await ctx.exec('nsenter', ['-t', String(leader), '-a', 'systemctl', '--failed', '--no-legend'], { reject: false });
      if (state !== 'degraded' || /execd/.test(failedUnits.stdout)) {
        throw new TaskFailure(`the container's systemd is ${state || 'not up'}: ${failedUnits.stdout.trim() || 'no failed unit'}; console log:\n${consoleTail(p)}`);
      }
      ctx.log(`booted degraded; failed units: ${failedUnits.stdout.trim()}`);
    }
    // The host end has no prefix route (several containers may share 169.254/16): route the
    // container's own address to its link.
    const address = await waitForAddress(ctx, leader!);
    await ctx.exec('ip', ['route', 'replace', `${address}/32`, 'dev', link]);
    ctx.log(`the container is up at ${address} (host end ${hostAddress(p.machine)} on ${link})`);
  };

  const container: Container = {
    leader() {
      const pid = nspawnPid(p);
      return pid === undefined ? undefined : containerLeader(pid);
    },

    async start(ctx) {
      if (nspawnPid(p) !== undefined) {
        ctx.log('the container is running: stopping it to start the current rootfs');
        await container.stop(ctx);
      }
      await killStrays(ctx);
      if (linkExists(link)) throw new TaskFailure(`a link named ${link} already exists on the host: is another container named ${p.machine} running?`);
      fs.mkdirSync(p.runtimeDir, { recursive: true });
      const procs = createCgroups(cgroups());
      const requests = requestCgroups();
      if (requests) createRequestCgroups(requests);
      const consoleFd = fs.openSync(paths.console, 'w');
      // The shell joins the cgroups, then becomes systemd-nspawn: every container process is
      // born inside the limits. Paths and arguments are passed as arguments, never as code.
      const joinThenExec = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
      const nspawnArgs = [
        '--boot', '--network-veth', '--register=no', '--keep-unit', '-D', p.rootfs, '-M', p.machine,
        ...containerTmpfs.map((t) => `--tmpfs=${t}`),
        ...(requests?.hierarchies.map((h) => `--bind=${h.dir}:${requestCgroupsInContainer}/${h.name}`) ?? []),
        ...(containerOomScoreAdjust() === undefined ? [] : [`--oom-score-adjust=${containerOomScoreAdjust()}`]),
      ];
      const child = spawn('sh', ['-c', joinThenExec, 'sh', ...procs, '--', 'systemd-nspawn', ...nspawnArgs], {
        detached: true,
        stdio: ['ignore', consoleFd, consoleFd],
        cwd: '/',
      });
      fs.closeSync(consoleFd);
      child.unref();
      if (child.pid === undefined) throw new TaskFailure('could not start systemd-nspawn');
      fs.writeFileSync(paths.pid, `${child.pid}\n`);
      ctx.log(`systemd-nspawn pid ${child.pid}, console log ${paths.console}`);
      try {
        await bootAndAddress(ctx, child.pid);
      } catch (error) {
        // A container that failed to boot (or whose start was interrupted) is not left behind.
        killNow(child.pid);
        throw error;
      }
    },

    async stop(ctx) {
      const pid = nspawnPid(p);
      if (pid !== undefined) {
        const leader = containerLeader(pid);
        // systemd-nspawn turns SIGTERM into an orderly poweroff of the container.
        process.kill(pid, 'SIGTERM');
        try {
          await waitFor(`systemd-nspawn (pid ${pid}) to exit`, ctx, stopTimeoutMs, () => !processAlive(pid));
        } catch {
          ctx.log(`systemd-nspawn (pid ${pid}) did not stop in ${stopTimeoutMs / 1000} s: SIGKILL`);
          // The container's init first: killing it ends its whole pid namespace, which a killed
          // systemd-nspawn would leave running.
          if (leader !== undefined && processAlive(leader)) process.kill(leader, 'SIGKILL');
          process.kill(pid, 'SIGKILL');
          await waitFor(`systemd-nspawn (pid ${pid}) to die`, ctx, 10_000, () => !processAlive(pid));
        }
        ctx.log(`stopped systemd-nspawn (pid ${pid})`);
      } else {
        ctx.log('the container is not running');
      }
      if (linkExists(link)) await ctx.exec('ip', ['link', 'delete', link], { reject: false });
      fs.rmSync(paths.pid, { force: true });
      await removeRequestCgroups(requestCgroups());
      await removeCgroups(cgroups());
    },
  };
  return container;
}
