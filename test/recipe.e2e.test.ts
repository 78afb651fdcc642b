// The recipe for real: debootstrap, go build, systemd-nspawn and iproute2, in a temporary folder,
// standalone host mode. Needs root and Debian's package mirror; skipped (with the reason) otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { containerAddress as localAddress } from '../tasks/lib/container.ts';
import { containerLeader, defaultRoutesVia, descendantsOf, uidOf } from '../tasks/lib/procfs.ts';
import { Project } from './helpers/cli-rig.ts';
import { RecipeRig } from './helpers/recipe-rig.ts';
import { nginxInstalled, startCacheServer, type CacheServer } from './helpers/nginx.ts';

const needed = ['debootstrap', 'systemd-nspawn', 'go', 'ip', 'nsenter', 'systemctl'];
const missing = needed.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (debootstrap, systemd-nspawn, veth links, cgroups)'
    : missing.length > 0
      ? `needs ${missing.join(', ')} (apt-get install debootstrap systemd-container golang-go iproute2; .ci/run does)`
      : false;

const initialHosts = '127.0.0.1\tlocalhost\r\n# unrelated comment\r\n10.1.2.3 other-host other\r\n::1 ip6-localhost'; // CRLF, no final newline

let rig: RecipeRig | undefined;
let secondRig: RecipeRig | undefined;
let cacheServer: CacheServer | undefined;
after(async () => {
  rig?.cleanup();
  secondRig?.cleanup();
  await cacheServer?.stop();
});

/** Runs a command inside the container's namespaces. */
function inContainer(leader: number, ...command: string[]): string {
  return execFileSync('nsenter', ['-t', String(leader), '-a', ...command], { encoding: 'utf8' });
}

function execc(r: RecipeRig, address: string, input: string, ...command: string[]): string {
  return execFileSync(path.join(r.project, 'build/execc'), [`${address}:4000`, ...command], { input, encoding: 'utf8', timeout: 60_000 });
}

test('the recipe builds, boots, names and smoke-tests the container; a bump reruns only what changed', { skip, timeout: 30 * 60_000 }, async (t) => {
  const r = (rig = new RecipeRig(initialHosts));
  // A remote cache the first build fills (a second host's build at the end restores from it).
  if (nginxInstalled) {
    cacheServer = await startCacheServer();
    r.env = { TASK_CACHE_URL: cacheServer.url };
  }

  // task all, from nothing.
  const first = await r.task('all');
  if (first.code !== 0 && /Failed getting release file|Couldn't download|Temporary failure resolving/.test(first.stdout + first.stderr)) {
    t.skip("no network to Debian's package mirror: debootstrap could not download");
    return;
  }
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  assert.deepEqual(
    Project.ran(first).sort(),
    ['chroot', 'execd', 'firewall', 'host-tools', 'hosts', 'networkd', 'nspawn-config', 'rootfs', 'route', 'smoke', 'start'],
  );

  // The hosts file: one marked line for the machine, every other byte as it was.
  const hosts = fs.readFileSync(r.hostsFile, 'utf8');
  assert.ok(hosts.startsWith(initialHosts), 'the old contents are kept byte for byte');
  const entry = hosts.match(new RegExp(`^(169\\.254\\.\\d+\\.\\d+) ${r.machine}\\r$`, 'm'));
  assert.ok(entry, hosts);
  const address = entry[1]!;

  // Inside the running container.
  const nspawn = r.nspawnPid();
  assert.ok(nspawn, 'the pid file names systemd-nspawn');
  const leader = containerLeader(nspawn);
  assert.ok(leader, 'the container has an init');
  const execd = descendantsOf(leader).find((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'execd');
  assert.ok(execd, 'execd runs in the container');
  const execdUser = fs.readFileSync(path.join(r.rootfs, 'etc/passwd'), 'utf8').match(/^execd:x:(\d+):/m);
  assert.ok(execdUser, 'systemd-sysusers made the execd user');
  assert.equal(uidOf(execd), Number(execdUser[1]), 'execd runs as its own user');
  assert.equal(inContainer(leader, 'id', '-un').trim(), 'root');
  assert.doesNotMatch(inContainer(leader, 'ip', '-4', 'route', 'show', 'default'), /default/, 'no default route in the container');
  assert.equal(defaultRoutesVia(`ve-${r.machine}`), 0, 'no default route via the host end');
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const memoryLimit = inContainer(leader, 'cat', v2 ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes').trim();
  assert.equal(memoryLimit, String(32 * 1024 * 1024), 'MemoryMax=32M');
  const cpuLimit = inContainer(leader, 'cat', v2 ? '/sys/fs/cgroup/cpu.max' : '/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim();
  assert.equal(cpuLimit, v2 ? '10000 100000' : '10000', 'CPUQuota=10%');

  // The limits are enforced, not just written: a busy loop gets throttled.
  const cpuStat = () => Number(inContainer(leader, 'cat', v2 ? '/sys/fs/cgroup/cpu.stat' : '/sys/fs/cgroup/cpu/cpu.stat').match(/nr_throttled (\d+)/)?.[1]);
  const throttledBefore = cpuStat();
  execc(r, address, '', 'sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done');
  assert.ok(cpuStat() > throttledBefore, 'the CPU quota throttled a busy loop');
  // Read on the host, in the cgroup the container's init is in.
  const memoryCgroup = fs.readFileSync(`/proc/${leader}/cgroup`, 'utf8').split('\n').find((l) => (v2 ? l.startsWith('0::') : l.split(':')[1]?.split(',').includes('memory')))!.split(':')[2]!;
  // The request slots' cgroups hold half of the container's memory, a slot a quarter, and weigh
  // a quarter of a container process's CPU share (their behaviour: container-attacks.e2e.test.ts).
  const requests = path.join(v2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/memory', memoryCgroup, 'requests');
  if (!v2) {
    assert.equal(fs.readFileSync(path.join(requests, 'memory.limit_in_bytes'), 'utf8').trim(), String(16 * 1024 * 1024));
    assert.equal(fs.readFileSync(path.join(requests, 'slot0', 'memory.limit_in_bytes'), 'utf8').trim(), String(8 * 1024 * 1024));
    assert.match(execc(r, address, '', 'cat', '/proc/self/cgroup'), /memory:\/requests\/slot\d\n/);
  }
  // A second run runs nothing but the smoke test.
  const second = await r.task('all');
  assert.equal(second.code, 0, second.stdout);
  assert.deepEqual(Project.ran(second), ['smoke']);

  // A version bump: execd and what depends on it rerun; debootstrap does not.
  const bump = await r.task('all', 'execdVersion=9.9.9-test');
  assert.equal(bump.code, 0, `${bump.stdout}\n${bump.stderr}`);
  const rerun = Project.ran(bump);
  for (const name of ['execd', 'chroot', 'start', 'hosts', 'smoke']) assert.ok(rerun.includes(name), `${name} reran: ${rerun}`);
  assert.ok(!rerun.includes('rootfs'), 'debootstrap did not run again');
  const newAddress = fs.readFileSync(r.hostsFile, 'utf8').match(new RegExp(`^(\\S+) ${r.machine}\\r$`, 'm'))?.[1];
  assert.ok(newAddress);
  // As root in the container: a request's limits (2 MiB of heap a process) are too tight for Go.
  assert.equal(inContainer(containerLeader(r.nspawnPid()!)!, '/usr/local/bin/execd', '-version').trim(), 'execd 9.9.9-test');
  const newLeader = containerLeader(r.nspawnPid()!)!;
  const newExecd = descendantsOf(newLeader).find((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'execd')!;
  assert.ok(!fs.readlinkSync(`/proc/${newExecd}/exe`).endsWith('(deleted)'), 'the running execd is the new binary');

  // The container killed from outside: start's check sees it, and hosts follows the new address.
  // A stale entry first, so that only a rerun of hosts can make the file right again.
  const entryLine = new RegExp(`^\\S+ ${r.machine}\\r$`, 'm');
  fs.writeFileSync(r.hostsFile, fs.readFileSync(r.hostsFile, 'utf8').replace(entryLine, `169.254.0.9 ${r.machine}\r`));
  assert.match(fs.readFileSync(r.hostsFile, 'utf8'), new RegExp(`^169\\.254\\.0\\.9 ${r.machine}\\r$`, 'm'));
  const victim = r.nspawnPid()!;
  const victimLeader = containerLeader(victim)!;
  process.kill(victimLeader, 'SIGKILL');
  process.kill(victim, 'SIGKILL');
  for (let i = 0; i < 100 && fs.existsSync(`/sys/class/net/ve-${r.machine}`); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const revived = await r.task('all', 'execdVersion=9.9.9-test');
  assert.equal(revived.code, 0, `${revived.stdout}\n${revived.stderr}`);
  assert.match(revived.stdout, /start: running \(its check found the live state out of date\)/);
  assert.ok(!Project.ran(revived).includes('rootfs'));
  assert.ok(Project.ran(revived).includes('hosts'), 'hosts reran');
  const revivedLeader = containerLeader(r.nspawnPid()!)!;
  const revivedAddress = fs.readFileSync(r.hostsFile, 'utf8').match(new RegExp(`^(\\S+) ${r.machine}\\r$`, 'm'))?.[1];
  assert.equal(revivedAddress, localAddress(revivedLeader), 'the hosts entry follows the container\'s current address');

  // debootstrap failing (a bad suite, an unreachable mirror): the old rootfs is untouched and
  // still serves, no temporary folder is left, and the error says what failed.
  const execdInRootfs = fs.readFileSync(path.join(r.rootfs, 'usr/local/bin/execd'));
  for (const [arg, said] of [['suite=nosuchsuite', /debootstrap .*nosuchsuite/], ['mirror=http://127.0.0.1:9/debian', /debootstrap .*127\.0\.0\.1:9/]] as const) {
    const broken = await r.task('rootfs', arg);
    assert.equal(broken.code, 1, broken.stdout);
    // Failures are reported on stderr, with the command that failed.
    assert.match(broken.stderr, /task 'rootfs' failed: command exited with code \d+: /);
    assert.match(broken.stderr, said);
    assert.deepEqual(fs.readdirSync(r.machinesDir).filter((f) => f.includes('.building-')), [], 'the temporary folder is removed');
    assert.deepEqual(fs.readFileSync(path.join(r.rootfs, 'usr/local/bin/execd')), execdInRootfs, 'the old rootfs is untouched');
  }
  assert.match(execc(r, revivedAddress!, 'still here', 'cat'), /still here/, 'the container still runs from the old rootfs');

  // task stop: the container, its link and its pid file are gone.
  const pid = r.nspawnPid()!;
  const stop = await r.task('stop');
  assert.equal(stop.code, 0, stop.stdout);
  assert.ok(!fs.existsSync(`/proc/${pid}/cmdline`) || fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '', 'systemd-nspawn is gone');
  assert.equal(fs.existsSync(`/sys/class/net/ve-${r.machine}`), false, 'the veth link is gone');
  assert.equal(fs.existsSync(r.pidFile), false, 'the pid file is gone');

  // A second host: another folder, machine name, machinesDir and empty local cache, pointed at the
  // remote cache the first build filled. rootfs and execd come from it: no debootstrap, no go
  // build; the rootfs keeps its owners, modes and links, boots, and passes the smoke test.
  if (!cacheServer) return;
  const s2 = (secondRig = new RecipeRig(initialHosts));
  s2.env = { TASK_CACHE_URL: cacheServer.url };
  const other = await s2.task('all');
  assert.equal(other.code, 0, `${other.stdout}\n${other.stderr}`);
  assert.match(other.stdout, /^rootfs: restoring from the remote cache/m);
  assert.match(other.stdout, /^execd: restoring from the remote cache/m);
  const ranThere = Project.ran(other);
  assert.ok(!ranThere.includes('rootfs') && !ranThere.includes('execd'), `${ranThere}`);
  assert.ok(ranThere.includes('smoke'), 'the smoke test ran and passed');
  assert.equal(fs.existsSync(path.join(s2.project, '.task/cache/debootstrap')), false, 'debootstrap never ran there');
  assert.match(other.stderr, /^task: cache: 0 local hits, 2 remote hits/m);
  // The figures for the benchmark notes: the cold build and the second host's, side by side.
  t.diagnostic(`cold: ${first.stderr.match(/^task: \d+ ran.*$/m)?.[0]}; from the remote cache: ${other.stderr.match(/^task: \d+ ran.*$/m)?.[0]} ${other.stderr.match(/^task: cache:.*$/m)?.[0]}`);
  const usrTree = (root: string) => execFileSync('sh', ['-c', `cd "$1/usr" && find . -path ./local -prune -o -printf '%p %y %m %U:%G %l %n\\n' | sort`, 'sh', root], { encoding: 'utf8' });
  assert.equal(usrTree(s2.rootfs), usrTree(r.rootfs), 'the restored rootfs has the same entries, modes, owners and links under /usr');
  await s2.task('stop');
});
