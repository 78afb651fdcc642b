// A throwaway systemd host: a Debian rootfs with systemd booted by systemd-nspawn, so that the
// recipe's systemd host mode runs for real on a machine whose PID 1 is not systemd. The rootfs is
// built once with mmdebstrap and cached outside the checkout (keyed by its package list); every
// boot writes to a tmpfs overlay (--volatile=overlay), so the cache is never changed.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { containerLeader, processAlive } from '../../tasks/lib/procfs.ts';

export const virtualHostPackages = ['systemd', 'systemd-sysv', 'dbus', 'systemd-container', 'iproute2', 'udev', 'debootstrap', 'golang-go', 'nftables'];
const cacheRoot = '/var/cache/execd-builder-tests';

/** The cached rootfs, built when missing (about 80 s). */
export function virtualHostRootfs(): string {
  const key = createHash('sha256').update(virtualHostPackages.join(',')).digest('hex').slice(0, 12);
  const rootfs = path.join(cacheRoot, `vhost-${key}`);
  if (fs.existsSync(rootfs)) return rootfs;
  fs.mkdirSync(cacheRoot, { recursive: true });
  const building = `${rootfs}.building-${process.pid}`;
  try {
    execFileSync('mmdebstrap', ['--variant=minbase', `--include=${virtualHostPackages.join(',')}`, 'bookworm', building], { stdio: 'ignore', timeout: 600_000 });
    fs.renameSync(building, rootfs);
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
  return rootfs;
}

export class VirtualHost {
  readonly name: string;
  readonly console: string;
  #nspawn: number | undefined;

  constructor(name: string, consoleLog: string) {
    this.name = name;
    this.console = consoleLog;
  }

  /** Boots it with `binds` visible at the same paths inside, and waits until systemd is running. */
  async boot(rootfs: string, binds: string[]): Promise<void> {
    const out = fs.openSync(this.console, 'w');
    const args = [
      '-D', rootfs, '-b', '--register=no', '--keep-unit', '--private-network', '--volatile=overlay',
      '--capability=all', '--system-call-filter=@mount @privileged @system-service keyctl add_key',
      '-M', this.name, `--bind-ro=${process.execPath}:/usr/local/bin/node`,
      ...binds.map((dir) => `--bind=${dir}`),
    ];
    const child = spawn('systemd-nspawn', args, { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    child.unref();
    this.#nspawn = child.pid;
    const until = Date.now() + 120_000;
    for (;;) {
      const leader = this.leader();
      if (leader !== undefined) {
        const state = this.run(['systemctl', 'is-system-running', '--wait'], { allowFailure: true, timeout: 60_000 }).trim();
        if (state === 'running' || state === 'degraded') return;
      }
      if (!this.#nspawn || !processAlive(this.#nspawn)) throw new Error(`the virtual host exited while booting:\n${this.consoleTail()}`);
      if (Date.now() > until) throw new Error(`the virtual host did not boot in 120 s:\n${this.consoleTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Whether its systemd-nspawn is still running. */
  running(): boolean {
    return this.#nspawn !== undefined && processAlive(this.#nspawn);
  }

  leader(): number | undefined {
    return this.#nspawn === undefined ? undefined : containerLeader(this.#nspawn);
  }

  /** Runs a command inside, in all its namespaces; returns its standard output. */
  run(command: string[], options: { allowFailure?: boolean; timeout?: number } = {}): string {
    const leader = this.leader();
    if (leader === undefined) throw new Error('the virtual host is not running');
    try {
      return execFileSync('nsenter', ['-t', String(leader), '-a', 'env', 'PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...command], {
        encoding: 'utf8',
        timeout: options.timeout ?? 600_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      if (options.allowFailure) return String((error as { stdout?: string }).stdout ?? '');
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command.join(' ')} failed in the virtual host: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  }

  consoleTail(): string {
    try {
      return fs.readFileSync(this.console, 'utf8').replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-20).join('\n');
    } catch {
      return '(no console log)';
    }
  }

  /** Powers it off (SIGTERM to systemd-nspawn), or kills it by pid after 30 s. */
  async shutdown(): Promise<void> {
    const nspawn = this.#nspawn;
    if (nspawn === undefined || !processAlive(nspawn)) return;
    const leader = this.leader();
    process.kill(nspawn, 'SIGTERM');
    const until = Date.now() + 30_000;
    while (processAlive(nspawn) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
    for (const pid of [leader, nspawn]) {
      if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
}
