// The recipe's parameters (DESIGN.md, "The recipe's contract"). Each value is checked here,
// before anything runs: none of them ever reaches a shell, and paths must be absolute.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { param } from '../../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

export type HostMode = 'systemd' | 'standalone';

export interface RecipeParams {
  machine: string;
  suite: string;
  packages: string[];
  mirror: string;
  machinesDir: string;
  hostsFile: string;
  systemdDir: string;
  port: number;
  cpuQuota: string;
  memoryMax: string;
  execdVersion: string;
  rootLogin: 'locked' | 'passwordless';
  hostMode: HostMode;
  fonts: Array<{ url: string; sha256: string }>;
  /** The container's root folder: machinesDir/machine. */
  rootfs: string;
  /** Where the recipe keeps the container's pid and console log between runs. */
  runtimeDir: string;
  /** The recipe's folder, where Taskfile.ts is: inputs are relative to it. */
  root: string;
}

const absolutePath = (value: string) =>
  path.isAbsolute(value) && !/[\n\0]/.test(value) ? undefined : 'must be an absolute path';

/** sd_booted(): systemd is PID 1 when /run/systemd/system exists. */
export function detectHostMode(): HostMode {
  return fs.existsSync('/run/systemd/system') ? 'systemd' : 'standalone';
}

export function recipeParams(): RecipeParams {
  const machine = param('machine', 'execd', 'container name (a-z, 0-9, -; at most 12 characters, for ve-NAME)', (v) =>
    /^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/.test(v) ? undefined : 'use a-z, 0-9 and - (not first or last), at most 12 characters: the host link is ve-NAME',
  );
  const suite = param('suite', 'bookworm', 'Debian suite for debootstrap', (v) =>
    /^[a-z][a-z0-9.-]{0,31}$/.test(v) ? undefined : 'a Debian suite name such as bookworm',
  );
  const packages = param('packages', 'figlet,vim-tiny,iproute2,dbus,systemd,systemd-sysv', 'packages debootstrap includes, comma separated', (v) =>
    v.split(',').every((p) => /^[a-z0-9][a-z0-9+.-]+$/.test(p)) ? undefined : 'Debian package names separated by commas',
  );
  const mirror = param('mirror', '', "Debian mirror URL (empty: debootstrap's default)", (v) =>
    v === '' || /^(https?|file):\/\/[^\s'"`;|&$<>\\]+$/.test(v) ? undefined : 'an http(s):// or file:// URL',
  );
  const machinesDir = param('machinesDir', '/var/lib/machines', 'folder holding the container root folders', absolutePath);
  const hostsFile = param('hostsFile', '/etc/hosts', 'hosts file that names the container', absolutePath);
  const systemdDir = param('systemdDir', '/etc/systemd', 'where the .nspawn file, drop-in and .network file go', absolutePath);
  const port = param('port', 4000, 'TCP port execd listens on', (v) =>
    Number.isInteger(v) && v >= 1 && v <= 65535 ? undefined : 'a whole number from 1 to 65535',
  );
  const cpuQuota = param('cpuQuota', '10%', 'CPU limit of the container (CPUQuota=)', (v) =>
    /^[1-9][0-9]{0,4}%$/.test(v) ? undefined : 'a percentage such as 10%',
  );
  const memoryMax = param('memoryMax', '32M', 'memory limit of the container (MemoryMax=)', (v) =>
    /^[1-9][0-9]{0,11}[KMG]?$/.test(v) ? undefined : 'bytes, or a number with K, M or G, such as 32M',
  );
  const execdVersion = param('execdVersion', fs.readFileSync(path.join(repoRoot, 'execd/VERSION'), 'utf8').trim(), 'version stamped into execd and execc', (v) =>
    /^[0-9A-Za-z][0-9A-Za-z.+~-]{0,63}$/.test(v) ? undefined : 'letters, digits and . + ~ -',
  );
  const rootLogin = param('rootLogin', 'locked', "root account in the container: locked, or passwordless as the seed had it", (v) =>
    v === 'locked' || v === 'passwordless' ? undefined : 'locked or passwordless',
  );
  const hostMode = param('hostMode', 'auto', 'auto, systemd (PID 1 is systemd) or standalone', (v) =>
    ['auto', 'systemd', 'standalone'].includes(v) ? undefined : 'auto, systemd or standalone',
  );
  const fonts = param('fonts', '', 'extra figlet font archives, URL#sha256, comma separated', (v) =>
    v === '' || v.split(',').every((f) => /^(https?|file):\/\/[^\s#'"`;|&$<>\\]+#[0-9a-f]{64}$/.test(f)) ? undefined : 'URL#sha256 entries separated by commas',
  );
  return {
    machine,
    suite,
    packages: packages.split(','),
    mirror,
    machinesDir,
    hostsFile,
    systemdDir,
    port,
    cpuQuota,
    memoryMax,
    execdVersion,
    rootLogin: rootLogin as RecipeParams['rootLogin'],
    hostMode: hostMode === 'auto' ? detectHostMode() : (hostMode as HostMode),
    fonts: fonts === '' ? [] : fonts.split(',').map((f) => ({ url: f.slice(0, f.lastIndexOf('#')), sha256: f.slice(f.lastIndexOf('#') + 1) })),
    rootfs: path.join(machinesDir, machine),
    runtimeDir: path.join(repoRoot, '.task', 'machines', machine),
    root: repoRoot,
  };
}
