// The recipe's systemd host mode for real: inside a throwaway systemd host (test/helpers/
// virtual-host.ts), `task all` with hostMode auto-detected as systemd. The virtual host has no
// network, so the rootfs is debootstrapped outside first, into a folder bound in at the same path,
// and the recipe's state comes along: inside, rootfs and execd are up to date.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { repo } from './helpers/cli-rig.ts';
import { RecipeRig } from './helpers/recipe-rig.ts';
import { VirtualHost, virtualHostRootfs } from './helpers/virtual-host.ts';

const needed = ['mmdebstrap', 'debootstrap', 'systemd-nspawn', 'go', 'nsenter'];
const missing = needed.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (systemd-nspawn, debootstrap)'
    : missing.length > 0
      ? `needs ${missing.join(', ')} (apt-get install mmdebstrap debootstrap systemd-container golang-go; .ci/run does)`
      : false;

let rig: RecipeRig | undefined;
let host: VirtualHost | undefined;
after(async () => {
  await host?.shutdown();
  rig?.cleanup();
});

/** Carriage returns and escape sequences (bash's bracketed paste mode) in what a terminal shows. */
const terminalCodes = /\r|\x1b\[[0-9;?]*[A-Za-z]/g;

/** Tasks that ran, from the CLI's plain output. */
const ran = (output: string) => [...output.matchAll(/^(\S+): running \(/gm)].map((m) => m[1]!);

test('systemd mode: task all inside a systemd host boots the container through systemd-nspawn@.service', { skip, timeout: 30 * 60_000 }, async (t) => {
  const r = (rig = new RecipeRig('127.0.0.1 localhost\n'));
  const outside = await r.task('rootfs', 'execd');
  if (outside.code !== 0 && /Failed getting release file|Couldn't download|Temporary failure resolving/.test(outside.stdout + outside.stderr)) {
    t.skip("no network to Debian's package mirror: debootstrap could not download");
    return;
  }
  assert.equal(outside.code, 0, outside.stdout + outside.stderr);

  const vhost = (host = new VirtualHost(`vh${r.machine.slice(2)}`, `${r.dir}/vhost-console.log`));
  // The project copy links node_modules to the checkout's: both are bound in at the same paths.
  await vhost.boot(virtualHostRootfs(), [r.dir, path.join(repo, 'node_modules')]);
  const task = (...args: string[]) =>
    vhost.run(['node', `${r.project}/bin/task.js`, '-C', r.project, ...args, `machine=${r.machine}`, `machinesDir=${r.machinesDir}`, `hostsFile=${r.hostsFile}`], { timeout: 600_000 });

  const first = task('all');
  assert.match(first, /start: running/);
  assert.match(first, /\[\d+\/\d+\] smoke: done/);
  assert.ok(!ran(first).includes('rootfs'), 'the rootfs made outside is up to date inside');

  // machinectl sees the machine; it has link-local addresses only, and no default route.
  assert.match(vhost.run(['machinectl', 'list', '--no-legend']), new RegExp(`^${r.machine}\\s+container\\s+systemd-nspawn`, 'm'));
  const listed = JSON.parse(vhost.run(['machinectl', 'list', '-o', 'json', '--max-addresses=all'])) as Array<{ machine: string; addresses?: string }>;
  const addresses = (listed.find((m) => m.machine === r.machine)?.addresses ?? '').split(/\s+/).filter((a) => a.includes('.'));
  assert.ok(addresses.length > 0, JSON.stringify(listed));
  for (const address of addresses) assert.match(address, /^169\.254\./, 'no DHCP address from the host: link-local only');
  const leader = vhost.run(['machinectl', 'show', r.machine, '-p', 'Leader', '--value']).trim();
  assert.doesNotMatch(vhost.run(['nsenter', '-t', leader, '-n', 'ip', '-4', 'route', 'show', 'default']), /default/);
  const limits = vhost.run(['systemctl', 'show', `systemd-nspawn@${r.machine}.service`, '-p', 'MemoryMax', '-p', 'CPUQuotaPerSecUSec']);
  assert.match(limits, /^MemoryMax=33554432$/m);
  assert.match(limits, /^CPUQuotaPerSecUSec=100ms$/m);
  const entry = fs.readFileSync(r.hostsFile, 'utf8').match(new RegExp(`^(\\S+) ${r.machine}$`, 'm'))?.[1];
  assert.ok(entry && addresses.includes(entry), `the hosts entry ${entry} is one of machinectl's addresses ${addresses}`);

  // What the seed kept dbus in the chroot for: the host's systemd talks to the container's.
  // `systemctl -M MACHINE status execd` reports the unit active (exit 0 only when it is).
  const unitStatus = vhost.run(['systemctl', '-M', r.machine, 'status', '--no-pager', 'execd.service']);
  assert.match(unitStatus, /^\s*Active: active \(running\)/m, unitStatus);
  // `machinectl login MACHINE` reaches the container's login prompt. It needs a terminal:
  // script gives it a pseudo-terminal, fed from a pipe; a return after a while asks for the
  // prompt again, and Ctrl-] three times within a second ends the session (root is locked, so
  // there is no logging in; the prompt is what proves the way in).
  const login = vhost.run(
    ['timeout', '60', 'sh', '-c', '(sleep 5; printf "\\n"; sleep 3; printf "\\035\\035\\035"; sleep 2) | script -qec "machinectl login $1" /dev/null', 'sh', r.machine],
    { allowFailure: true, timeout: 90_000 },
  ).replace(terminalCodes, '');
  assert.match(login, new RegExp(`^${r.machine} login: `, 'm'), login);

  // The operator's targets, through machined: status names the address and execd's unit state,
  // and the unit's limits; logs shows execd's journal.
  const status = task('status');
  assert.match(status, new RegExp(`^address: ${entry!.replaceAll('.', '\\.')}, port 4000 \\(as ${r.machine} in ${r.hostsFile}\\)$`, 'm'), status);
  assert.match(status, /^execd\.service: active$/m, status);
  assert.match(status, new RegExp(`^${r.machine}: running \\(systemd mode; systemd-nspawn@${r.machine}\\.service, init pid ${leader}\\)$`, 'm'), status);
  assert.match(status, new RegExp(`^memory limit: 32M \\(systemd-nspawn@${r.machine}\\.service MemoryMax=\\)`, 'm'), status);
  assert.match(status, new RegExp(`^CPU limit: 10% of one CPU \\(systemd-nspawn@${r.machine}\\.service CPUQuota=\\)$`, 'm'), status);
  assert.match(task('logs'), /Started execd\.service/);
  // shell: machinectl shell on the terminal script gives task, typed into from a pipe.
  const shellCommand = ['node', `${r.project}/bin/task.js`, '-C', r.project, 'shell', `machine=${r.machine}`, `machinesDir=${r.machinesDir}`, `hostsFile=${r.hostsFile}`].join(' ');
  const shell = vhost.run(
    ['timeout', '60', 'sh', '-c', '(sleep 4; printf "cat /etc/hostname; id -u\\n"; sleep 2; printf "exit\\n"; sleep 4) | script -qec "$1" /dev/null', 'sh', shellCommand],
    { allowFailure: true, timeout: 90_000 },
  ).replace(terminalCodes, '');
  assert.match(shell, new RegExp(`^${r.machine}\\n0$`, 'm'), `a root shell in the container:\n${shell}`);
  assert.match(shell, new RegExp(`^the shell in ${r.machine} exited with status 0$`, 'm'), shell);
  assert.match(shell, /^\[1\/1\] shell: done in /m, shell);
  // The official figlet fonts are there with no download.
  const slant = vhost.run(['sh', '-c', 'printf hi | "$1" "$2:4000" fig official slant', 'sh', `${r.project}/build/execc`, entry!]);
  assert.equal(slant, vhost.run(['nsenter', '-t', leader, '-a', 'sh', '-c', 'printf hi | figlet -f slant']));

  // A second run runs only the smoke test; stop stops the machine.
  assert.deepEqual(ran(task('all')), ['smoke']);
  task('stop');
  assert.doesNotMatch(vhost.run(['machinectl', 'list', '--no-legend']), new RegExp(`^${r.machine}\\s`, 'm'));

  // The virtual host is gone afterwards (its mounts lived in its own namespace, gone with it).
  await vhost.shutdown();
  assert.equal(vhost.running(), false, 'its systemd-nspawn has exited');
});
