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

/** Tasks that ran, from the CLI's plain output. */
const ran = (output: string) => [...output.matchAll(/^(\S+): running \(/gm)].map((m) => m[1]!);

test('systemd mode: task all inside a systemd host boots the container through systemd-nspawn@.service', { skip, timeout: 30 * 60_000 }, async (t) => {
  const r = (rig = new RecipeRig('127.0.0.1 localhost\n'));
  const outside = await r.task('rootfs', 'execd');
  if (outside.code !== 0 && /Failed getting release file|Couldn't download|Temporary failure resolving/.test(outside.stdout)) {
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

  // A second run runs only the smoke test; stop stops the machine.
  assert.deepEqual(ran(task('all')), ['smoke']);
  task('stop');
  assert.doesNotMatch(vhost.run(['machinectl', 'list', '--no-legend']), new RegExp(`^${r.machine}\\s`, 'm'));

  // The virtual host is gone afterwards (its mounts lived in its own namespace, gone with it).
  await vhost.shutdown();
  assert.equal(vhost.running(), false, 'its systemd-nspawn has exited');
});
