// A copy of the recipe in a temporary folder, with every parameter pointed inside it, so the
// end-to-end test never touches /etc/hosts, /var/lib/machines or /etc/systemd, nor the
// checkout's own .task state. Cleanup is by pid and by the names this rig made up.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { containerLeader } from '../../tasks/lib/procfs.ts';
import { nspawnPid } from '../../tasks/lib/standalone.ts';
import { finished, repo, type CliResult } from './cli-rig.ts';
import { spawn, spawnSync } from 'node:child_process';
import { firewallTable } from '../../tasks/lib/nftables.ts';

const copied = ['Taskfile.ts', 'tasks', 'src', 'execd', 'bin', 'package.json', 'tsconfig.json'];

export class RecipeRig {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'execd-recipe-'));
  /** A machine name of the test's own: at most 12 characters. */
  readonly machine = `et${randomBytes(3).toString('hex')}`;
  readonly hostsFile = path.join(this.dir, 'etc-hosts');
  readonly machinesDir = path.join(this.dir, 'machines');
  readonly systemdDir = path.join(this.dir, 'etc-systemd');
  readonly project = path.join(this.dir, 'project');
  /** The rig's own local cache (never the user's); a test may point two rigs at one remote. */
  readonly cacheDir = path.join(this.dir, 'task-cache');
  /** Variables added to the CLI's environment (TASK_CACHE_URL). */
  env: Record<string, string> = {};

  constructor(initialHosts: string) {
    fs.mkdirSync(this.project);
    for (const entry of copied) fs.cpSync(path.join(repo, entry), path.join(this.project, entry), { recursive: true });
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(this.project, 'node_modules'));
    fs.writeFileSync(this.hostsFile, initialHosts);
  }

  get rootfs(): string {
    return path.join(this.machinesDir, this.machine);
  }

  get pidFile(): string {
    return path.join(this.project, '.task', 'machines', this.machine, 'nspawn.pid');
  }

  params(): string[] {
    return [`machine=${this.machine}`, `machinesDir=${this.machinesDir}`, `hostsFile=${this.hostsFile}`, `systemdDir=${this.systemdDir}`, 'hostMode=standalone'];
  }

  /** The CLI now running, so that cleanup can stop it (its own process group) after a timeout. */
  #running: number | undefined;

  async task(...args: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [path.join(this.project, 'bin/task.js'), ...args, ...this.params()], {
      cwd: this.project,
      env: { ...process.env, CI: 'true', TASK_CACHE_DIR: this.cacheDir, TASK_CACHE_URL: '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#running = child.pid;
    const result = await finished(child);
    this.#running = undefined;
    return result;
  }

  /** The pid of the container's systemd-nspawn, when the pid file names one running on this rootfs. */
  nspawnPid(): number | undefined {
    return nspawnPid({ runtimeDir: path.dirname(this.pidFile), rootfs: this.rootfs });
  }

  /** Stops whatever the test started, even after a failure: the container by its pid, then its link and cgroups. */
  cleanup(): void {
    if (this.#running !== undefined) {
      try {
        process.kill(-this.#running, 'SIGKILL');
      } catch {
        // it ended
      }
    }
    const pid = this.nspawnPid();
    if (pid !== undefined) {
      // The container's init first (its whole pid namespace goes with it), then systemd-nspawn.
      for (const target of [containerLeader(pid), pid]) {
        try {
          if (target !== undefined) process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== ''; i++) {
        execFileSync('sleep', ['0.1']);
      }
    }
    const link = `ve-${this.machine}`;
    try {
      if (fs.existsSync(`/sys/class/net/${link}`)) execFileSync('ip', ['link', 'delete', link], { stdio: 'ignore' });
    } catch {
      // it went away by itself with the container's namespace
    }
    const name = `execd-builder-${this.machine}`;
    const own = (controller: string) =>
      fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))?.split(':')[2] ?? '/';
    const containerDirs = [path.join('/sys/fs/cgroup', name), ...['cpu', 'memory'].map((c) => path.join('/sys/fs/cgroup', c, own(c), name))];
    // The request slots' cgroups first: a cgroup goes only once it has no children.
    const requestDirs = containerDirs.flatMap((dir) => [0, 1, 2, 3].map((i) => path.join(dir, 'requests', `slot${i}`)).concat(path.join(dir, 'requests')));
    for (const dir of [...requestDirs, ...containerDirs]) {
      for (let attempt = 0; attempt < 50 && fs.existsSync(dir); attempt++) {
        try {
          fs.rmdirSync(dir);
        } catch {
          execFileSync('sleep', ['0.1']); // its last processes are being reaped
        }
      }
    }
    // The firewall table, by the name the recipe gives this rig's machine.
    spawnSync('nft', ['delete', 'table', 'inet', firewallTable(this.machine)], { stdio: 'ignore' });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
