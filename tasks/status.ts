// `status`, an operator's target beside stop (not part of all): whether the container runs, its
// address, the state of execd.service inside it, and the memory and CPU limits in force, read
// from the live cgroup (standalone mode) or the unit (systemd mode).
import fs from 'node:fs';
import path from 'node:path';
import { task, type TaskContext, type TaskRef } from '../src/index.ts';
import { containerAddress } from './lib/container.ts';
import { runningLeader } from './lib/host.ts';
import { lookupHost } from './lib/hosts-file.ts';
import type { RecipeParams } from './lib/params.ts';
import { nspawnPid } from './lib/standalone.ts';

/** 33554432 -> "32M"; sizes that are not whole mebibytes get one decimal. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= size) return Number.isInteger(bytes / size) ? `${bytes / size}${unit}` : `${(bytes / size).toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}

/** A limit found in a cgroup folder: the value, and the folder it is set in. */
export interface LiveLimit {
  /** Bytes for memory; a percentage of one CPU for cpu. */
  value: number;
  where: string;
}

export interface LiveLimits {
  memory?: LiveLimit;
  /** Memory in use in the folder that holds the memory limit. */
  memoryUsed?: number;
  cpu?: LiveLimit;
}

const readNumber = (file: string): number | undefined => {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^-?\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
};

const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** The folders from a process's cgroup up to the hierarchy's root, nearest first. */
function upwards(mount: string, cgroupPath: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.join(mount, cgroupPath); dir.startsWith(mount); dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === mount) break;
  }
  return dirs;
}

/** The tightest of the limits `read` finds in the folders, if any is set. */
function tightest(dirs: string[], read: (dir: string) => number | undefined): LiveLimit | undefined {
  let best: LiveLimit | undefined;
  for (const dir of dirs) {
    const value = read(dir);
    if (value !== undefined && (best === undefined || value < best.value)) best = { value, where: dir };
  }
  return best;
}

// cgroup v1 says "no memory limit" with a page-aligned LONG_MAX.
const unlimitedV1 = 2 ** 62;

/**
 * The memory and CPU limits in force for a process, from its /proc/PID/cgroup text: for each
 * controller, the tightest limit of its cgroup and every cgroup above it (a limit on a parent
 * holds for its children). cgroup v1 controllers (memory, cpu) or a pure v2 hierarchy.
 */
export function liveLimits(procCgroup: string, cgroupRoot = '/sys/fs/cgroup'): LiveLimits {
  const limits: LiveLimits = {};
  const pureV2 = fs.existsSync(path.join(cgroupRoot, 'cgroup.controllers'));
  for (const line of procCgroup.split('\n')) {
    const match = line.match(/^\d+:([^:]*):(.*)$/);
    if (!match) continue;
    const [, controllers, where] = match as unknown as [string, string, string];
    const names = controllers.split(',');
    if (pureV2 && controllers === '') {
      const dirs = upwards(cgroupRoot, where);
      limits.memory = tightest(dirs, (dir) => readNumber(path.join(dir, 'memory.max')));
      if (limits.memory) limits.memoryUsed = readNumber(path.join(limits.memory.where, 'memory.current'));
      limits.cpu = tightest(dirs, (dir) => {
        const [quota, period] = (readText(path.join(dir, 'cpu.max')) ?? 'max').split(/\s+/);
        return quota === 'max' || !period ? undefined : (Number(quota) / Number(period)) * 100;
      });
    } else if (!pureV2 && names.includes('memory')) {
      const dirs = upwards(path.join(cgroupRoot, 'memory'), where);
      limits.memory = tightest(dirs, (dir) => {
        const bytes = readNumber(path.join(dir, 'memory.limit_in_bytes'));
        return bytes === undefined || bytes >= unlimitedV1 ? undefined : bytes;
      });
      if (limits.memory) limits.memoryUsed = readNumber(path.join(limits.memory.where, 'memory.usage_in_bytes'));
    } else if (!pureV2 && names.includes('cpu')) {
      const dirs = upwards(path.join(cgroupRoot, controllers), where);
      limits.cpu = tightest(dirs, (dir) => {
        const quota = readNumber(path.join(dir, 'cpu.cfs_quota_us'));
        const period = readNumber(path.join(dir, 'cpu.cfs_period_us'));
        return quota === undefined || quota < 0 || !period ? undefined : (quota / period) * 100;
      });
    }
  }
  return limits;
}

const percent = (value: number) => `${Number.isInteger(value) ? value : value.toFixed(1)}%`;

/** The limits lines of a standalone container: its init's live cgroups. */
function standaloneLimits(leader: number): string[] {
  const limits = liveLimits(fs.readFileSync(`/proc/${leader}/cgroup`, 'utf8'));
  const memory = limits.memory
    ? `memory limit: ${formatBytes(limits.memory.value)} (${limits.memory.where})${limits.memoryUsed === undefined ? '' : `, ${formatBytes(limits.memoryUsed)} in use`}`
    : 'memory limit: none';
  const cpu = limits.cpu ? `CPU limit: ${percent(limits.cpu.value)} of one CPU (${limits.cpu.where})` : 'CPU limit: none';
  return [memory, cpu];
}

/** systemd's time span ("100ms", "1s 500ms", "2.5s") in microseconds; undefined for "infinity" or anything else. */
export function timespanMicros(span: string): number | undefined {
  const units: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, min: 60_000_000 };
  const parts = span.trim().split(/\s+/).map((part) => part.match(/^(\d+(?:\.\d+)?)(us|ms|s|min)$/));
  if (parts.length === 0 || parts.some((m) => !m)) return undefined;
  return Math.round(parts.reduce((sum, m) => sum + Number(m![1]) * units[m![2]!]!, 0));
}

/** The limits lines of a container run by systemd: its unit's properties. */
async function unitLimits(ctx: TaskContext, machine: string): Promise<string[]> {
  const unit = `systemd-nspawn@${machine}.service`;
  const shown = await ctx.exec('systemctl', ['show', unit, '-p', 'MemoryMax', '-p', 'MemoryCurrent', '-p', 'CPUQuotaPerSecUSec'], { quiet: true });
  const props = Object.fromEntries(shown.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  const max = Number(props.MemoryMax);
  const current = Number(props.MemoryCurrent);
  const memory = Number.isFinite(max) && props.MemoryMax !== ''
    ? `memory limit: ${formatBytes(max)} (${unit} MemoryMax=)${Number.isFinite(current) && props.MemoryCurrent !== '' ? `, ${formatBytes(current)} in use` : ''}`
    : 'memory limit: none';
  // CPUQuotaPerSecUSec=100ms: 100 ms of CPU a second, 10% (100,000 us / 10,000).
  const micros = timespanMicros(props.CPUQuotaPerSecUSec ?? '');
  const cpu = micros !== undefined ? `CPU limit: ${percent(micros / 10_000)} of one CPU (${unit} CPUQuota=)` : 'CPU limit: none';
  return [memory, cpu];
}

export function statusTask(p: RecipeParams): TaskRef {
  return task('status', {
    description: `the container ${p.machine}: running or not, its address, execd's unit state, its limits (not part of all)`,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, runtimeDir: p.runtimeDir, hostsFile: p.hostsFile, port: p.port },
    always: true,
    pool: 'console',
    run: async (ctx) => {
      const leader = runningLeader(p);
      const nspawn = p.hostMode === 'standalone' ? `systemd-nspawn pid ${nspawnPid(p)}, ` : `systemd-nspawn@${p.machine}.service, `;
      ctx.log(`${p.machine}: running (${p.hostMode} mode; ${nspawn}init pid ${leader})`);
      const address = containerAddress(leader);
      const named = fs.existsSync(p.hostsFile) ? lookupHost(fs.readFileSync(p.hostsFile, 'utf8'), p.machine) : undefined;
      const inHosts = named === undefined ? `${p.hostsFile} does not name it` : named === address ? `as ${p.machine} in ${p.hostsFile}` : `${p.hostsFile} names it ${named}: the hosts task updates it`;
      ctx.log(`address: ${address ?? 'none yet'}${address ? `, port ${p.port}` : ''} (${inHosts})`);
      // Asked of the container's own systemd: through machined and the container's dbus on a
      // systemd host (what the seed kept dbus for), in its namespaces otherwise.
      const isActive =
        p.hostMode === 'systemd'
          ? await ctx.exec('systemctl', ['-M', p.machine, 'is-active', 'execd.service'], { reject: false, quiet: true })
          : await ctx.exec('nsenter', ['-t', String(leader), '-a', 'systemctl', 'is-active', 'execd.service'], { reject: false, quiet: true });
      ctx.log(`execd.service: ${isActive.stdout.trim() || `unknown (${isActive.stderr.trim()})`}`);
      for (const line of p.hostMode === 'systemd' ? await unitLimits(ctx, p.machine) : standaloneLimits(leader)) ctx.log(line);
    },
  });
}
