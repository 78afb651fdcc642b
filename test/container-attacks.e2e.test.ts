// The execd container against hostile clients, for real: a freshly built container (standalone
// mode, temporary folders) is attacked with each kind of abuse of issue 13, at several strengths,
// and after each one it must still be up, with the same init, and answer a figlet request.
// Isolation, the time limit, the firewall and exit statuses are asserted directly.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerLeader, descendantsOf } from '../tasks/lib/procfs.ts';
import { firewallTable } from '../tasks/lib/nftables.ts';
import { RecipeRig } from './helpers/recipe-rig.ts';

const needed = ['debootstrap', 'systemd-nspawn', 'go', 'ip', 'nsenter', 'nft'];
const missing = needed.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
const skip =
  process.getuid?.() !== 0
    ? 'needs root (debootstrap, systemd-nspawn, veth links, nftables)'
    : missing.length > 0
      ? `needs ${missing.join(', ')} (apt-get install debootstrap systemd-container golang-go iproute2 nftables; .ci/run does)`
      : false;

const requestUids = [61000, 61001, 61002, 61003];
/** The uids each slot's reaper starts as: no request runs as one. */
const reaperUids = [61004, 61005, 61006, 61007];

interface Reply {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let rig: RecipeRig | undefined;
let address = '';
let leader = 0;
let unavailable: string | undefined;

/** One execc request, asynchronously (so that many can run at once). */
function execc(input: string | Buffer, ...command: string[]): Promise<Reply> {
  const begin = Date.now();
  return new Promise((resolve) => {
    const child = spawn(path.join(rig!.project, 'build/execc'), [`${address}:4000`, ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {}); // the daemon may refuse before reading it all
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - begin }));
  });
}

/** The pid (on the host) of the container's execd, found among its init's descendants. */
function execdPid(): number | undefined {
  return descendantsOf(leader).find((pid) => {
    try {
      const uid = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1]);
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'execd' && !requestUids.includes(uid) && !reaperUids.includes(uid);
    } catch {
      return false;
    }
  });
}

/** Live processes in the container's pid namespace running as a request or reaper uid, with their uid. */
function requestProcessUids(): Array<{ pid: number; uid: number }> {
  const ns = fs.readlinkSync(`/proc/${leader}/ns/pid`);
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).flatMap((pid) => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = Number(status.match(/^Uid:\s+(\d+)/m)?.[1]);
      return (requestUids.includes(uid) || reaperUids.includes(uid)) && !/^State:\s+Z/m.test(status) && fs.readlinkSync(`/proc/${pid}/ns/pid`) === ns ? [{ pid, uid }] : [];
    } catch {
      return []; // it exited while we looked
    }
  });
}

const requestProcesses = (): number[] => requestProcessUids().map((p) => p.pid);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The container survived: the same init runs, execd answers a figlet request (retried for up to
 * 20 s, the time a restart may take), and no process of any request is left.
 */
async function assertAlive(after: string): Promise<void> {
  assert.ok(fs.existsSync(`/proc/${leader}`), `${after}: the container's init (pid ${leader}) is gone`);
  let last: Reply | undefined;
  for (let i = 0; i < 40; i++) {
    last = await execc('ok', 'figlet');
    if (last.code === 0 && last.stdout.includes('___')) break;
    await sleep(500);
  }
  assert.equal(last?.code, 0, `${after}: execd does not answer: ${last?.stderr}`);
  for (let i = 0; i < 50 && requestProcesses().length > 0; i++) await sleep(100);
  assert.deepEqual(requestProcesses(), [], `${after}: request processes are left`);
}

describe('the execd container against hostile clients', { skip, timeout: 30 * 60_000 }, () => {
  before(async () => {
    const r = (rig = new RecipeRig('127.0.0.1 localhost\n'));
    const built = await r.task('all');
    if (built.code !== 0 && /Failed getting release file|Couldn't download|Temporary failure resolving/.test(built.stdout + built.stderr)) {
      unavailable = "no network to Debian's package mirror: debootstrap could not download";
      return;
    }
    assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}`);
    address = fs.readFileSync(r.hostsFile, 'utf8').match(new RegExp(`^(\\S+) ${r.machine}$`, 'm'))![1]!;
    leader = containerLeader(r.nspawnPid()!)!;
  });
  after(async () => {
    if (rig && !unavailable) {
      const stop = await rig.task('stop');
      assert.equal(stop.code, 0, stop.stdout);
      const table = spawnSync('nft', ['list', 'table', 'inet', firewallTable(rig.machine)]);
      assert.notEqual(table.status, 0, 'stop removed the firewall table');
    }
    rig?.cleanup();
  });

  test('honest results: exit status, signals, limits and refusals are errors, and execc exits 1', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const cases: Array<[string[], RegExp]> = [
      [['sh', '-c', 'echo out; echo why >&2; exit 7'], /: exit status 7: why$/],
      [['sh', '-c', 'kill -SEGV $$'], /: killed by signal SIGSEGV$/],
      [['sh', '-c', 'kill -KILL $$'], /: killed by signal SIGKILL$/],
      [['cat', '/dev/zero'], /: output limit: more than 1048576 bytes of output$/],
      [['no-such-program'], /: cannot run no-such-program: not found/],
      [['sleep', '30'], /: time limit: killed after 10s$/],
    ];
    for (const [command, said] of cases) {
      const reply = await execc('', ...command);
      assert.equal(reply.code, 1, `${command.join(' ')}: ${reply.stderr}`);
      assert.match(reply.stderr.trim(), said);
      assert.equal(reply.stderr.trim().split('\n').length, 1, 'one line');
      assert.equal(reply.stdout, '', 'no output from a failed command');
    }
    await assertAlive('the exit-status cases');
  });

  test('the time limit kills every process a request started: setsid, double fork, daemons', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const timed = await execc('', 'sh', '-c', 'setsid sleep 300 & (setsid sh -c "sleep 300 &" &); nohup sleep 300 >/dev/null 2>&1 & sleep 300');
    assert.match(timed.stderr, /time limit: killed after 10s/);
    assert.deepEqual(requestProcesses(), [], 'nothing of the request is left after its time limit');
    // A request that succeeds at once does not leave its daemons running either, nor wait for them.
    const quick = await execc('', 'sh', '-c', '(setsid sleep 300 &); sleep 300 >/dev/null 2>&1 <&- & echo started');
    assert.equal(quick.code, 0, quick.stderr);
    assert.equal(quick.stdout, 'started\n');
    assert.ok(quick.ms < 5000, `the reply waited ${quick.ms} ms for the request's leftovers`);
    assert.deepEqual(requestProcesses(), []);
    await assertAlive('the time-limit cases');
  });

  test('a request can neither see nor signal another request or execd', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const victim = execc('TOPSECRET', 'sh', '-c', 'sleep 4; cat');
    await sleep(1000);
    const execdInside = fs.readFileSync(`/proc/${execdPid()}/status`, 'utf8').match(/^NSpid:.*\s(\d+)$/m)![1]!;
    const look = await execc('', 'sh', '-c', `ls /proc | grep -c '^[0-9]'; cat /proc/${execdInside}/cmdline 2>&1 >/dev/null | wc -l; ls /proc/${execdInside} 2>/dev/null | wc -l; kill -9 -1; true`);
    const [visible, cmdlineError, execdEntries] = look.stdout.split('\n').map(Number);
    assert.ok(visible! <= 4, `a request sees only its own processes in /proc, saw ${visible}`);
    assert.equal(cmdlineError, 1, "execd's /proc entry cannot be read");
    assert.equal(execdEntries, 0, "execd's /proc folder is not even listed");
    for (const signal of ['TERM', 'KILL']) {
      for (let i = 0; i < 5; i++) {
        const kill = await execc('', 'sh', '-c', `kill -${signal} $PPID`);
        assert.match(kill.stderr, /Operation not permitted/);
      }
    }
    const stillRunning = await victim;
    assert.equal(stillRunning.code, 0, stillRunning.stderr);
    assert.equal(stillRunning.stdout, 'TOPSECRET', "the other request ran to its end with its own stdin");
    // The slots' cgroups: a request may read the pids of its own slot's only.
    // (Named one by one: neither the slots' folders nor their parent can be listed.)
    const cgroups = await execc('', 'sh', '-c', 'for h in memory cpu; do for i in 0 1 2 3; do f=/run/execd-cgroups/$h/slot$i/cgroup.procs; cat "$f" >/dev/null 2>&1 && echo "$f"; done; done; ls /run/execd-cgroups/memory 2>&1 | head -1; ls /run/execd-cgroups/memory/slot0 2>&1 | head -1');
    const [listing, parentListing, ...readable] = cgroups.stdout.trim().split('\n').reverse();
    const slots = new Set(readable.map((file) => file.match(/\/(slot\d)\//)?.[1]));
    assert.equal(slots.size, 1, `cgroup.procs readable, of one slot only: ${readable.join(' ')}`);
    assert.ok(readable.some((file) => file.endsWith('/memory/' + [...slots][0] + '/cgroup.procs')), `its own slot's: ${readable.join(' ')}`);
    assert.match(listing ?? '', /Permission denied/, 'a slot folder is not listed');
    assert.match(parentListing ?? '', /Permission denied/, 'nor the folder of the slots');
    // Nor another slot's memory use or statistics, or all requests' together: only root reads them.
    const usage = await execc('', 'sh', '-c', 'cd /run/execd-cgroups; for f in memory/memory.usage_in_bytes cpu/cpu.stat memory/slot0/memory.usage_in_bytes memory/slot1/memory.usage_in_bytes memory/slot2/memory.usage_in_bytes memory/slot3/memory.usage_in_bytes memory/slot0/memory.stat cpu/slot0/cpu.stat cpu/slot3/cpu.stat; do cat "$f" >/dev/null 2>&1 && echo "$f"; done; true');
    assert.equal(usage.stdout, '', `no cgroup statistics readable by a request: ${usage.stdout}`);
    // Nor the other clients' connections to execd (their addresses and byte counts), or any other
    // file of /proc that is not a process's.
    const net_ = await execc('', 'sh', '-c', 'for f in /proc/net/tcp /proc/net/tcp6 /proc/meminfo /proc/sysvipc/shm; do cat "$f" >/dev/null 2>&1 && echo "$f"; done; ls /proc/self/status');
    assert.equal(net_.stdout, '/proc/self/status\n', `only processes' files in /proc: ${net_.stdout}`);
    // Privilege: none at all, and no way back to any.
    const caps = await execc('', 'sh', '-c', 'id -u; grep -E "^Cap(Prm|Eff|Amb)" /proc/self/status; grep NoNewPrivs /proc/self/status');
    assert.match(caps.stdout, /^6100[0-3]\nCapPrm:\t0+\nCapEff:\t0+\nCapAmb:\t0+\nNoNewPrivs:\t1\n$/);
    await assertAlive('the isolation cases');
  });

  test('no capability within reach of a request, and a process a request leaves cannot stop its reaper', async (t) => {
    if (unavailable) return t.skip(unavailable);
    // execd keeps the three it needs, but no thread of it has them as ambient capabilities: a
    // program it starts as a request's uid (its launcher) gets none, in any of its threads.
    const threads = (pid: number) => fs.readdirSync(`/proc/${pid}/task`).map((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
    const capability = (status: string, set: string) => BigInt(`0x${status.match(new RegExp(`^${set}:\\s+([0-9a-f]+)$`, 'm'))![1]}`);
    const daemon = threads(execdPid()!);
    assert.ok(daemon.length > 1, 'execd runs several threads');
    for (const status of daemon) {
      assert.equal(capability(status, 'CapAmb'), 0n, 'no ambient capability in any thread of execd');
      assert.equal(capability(status, 'CapEff'), 0xe0n, 'CAP_KILL, CAP_SETGID and CAP_SETUID in effect');
    }
    // While requests run, no thread of any process running as a request's uid holds one.
    const held: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const { pid } of requestProcessUids().filter((p) => requestUids.includes(p.uid))) {
          try {
            for (const status of threads(pid)) {
              if (['CapPrm', 'CapEff', 'CapAmb'].some((set) => capability(status, set) !== 0n)) held.push(`${pid}: ${status.match(/^Cap.*$/gm)!.join(' ')}`);
            }
          } catch {
            // it exited while we looked
          }
        }
        await sleep(1);
      }
    })();
    for (let i = 0; i < 20; i++) await execc('', 'sh', '-c', 'setsid sleep 1 & true');
    watching = false;
    await watch;
    assert.deepEqual(held, [], 'a process of a request uid held a capability');
    // A leftover process that stops every process of its uid (kill -STOP -1 in a loop, once its
    // request has ended) would stop a reaper of that uid: the slot would never be free again.
    // The reaper starts as a uid of its own, so it cannot be signalled, and kills it.
    for (let round = 0; round < 3; round++) {
      const stopper = await execc('', 'sh', '-c', `setsid sh -c 'while kill -0 $PPID 2>/dev/null; do :; done; while :; do kill -STOP -1; done' >/dev/null 2>&1 & sleep 0.3`);
      assert.equal(stopper.code, 0, stopper.stderr);
    }
    await assertAlive('three requests that left a process stopping every process of their uid');
    const busy = await Promise.all(Array.from({ length: 4 }, () => execc('', 'sleep', '1')));
    assert.equal(busy.filter((r) => r.code === 0).length, 4, `all four slots serve again: ${busy.map((r) => r.stderr).join(' ')}`);
  });

  test('execd restarts at once and always: no start limit a client or a crash can trip', async (t) => {
    if (unavailable) return t.skip(unavailable);
    for (let i = 0; i < 6; i++) {
      const pid = execdPid();
      assert.ok(pid, 'execd runs');
      process.kill(pid, 'SIGKILL');
      await assertAlive(`execd killed ${i + 1} times in a row`);
      assert.notEqual(execdPid(), pid, 'a new execd');
    }
  });

  test('floods: concurrent requests and connections get an immediate busy, execd stays small', async (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const clients of [20, 100]) {
      const replies = await Promise.all(Array.from({ length: clients }, () => execc('', 'sleep', '3')));
      // Busy either way: all 4 slots taken, or all 64 connections open.
      const busy = replies.filter((r) => /: busy: (4 requests are running|64 connections are open); try again shortly$/m.test(r.stderr));
      assert.ok(replies.filter((r) => r.code === 0).length <= 4, 'at most 4 requests ran');
      assert.ok(busy.length >= clients - 8, `${busy.length} of ${clients} were told busy`);
      assert.ok(busy.every((r) => r.code === 1 && r.ms < 5000), 'busy comes at once, with exit 1');
      await assertAlive(`${clients} concurrent sleeps`);
    }
    // 50 clients at once, each with the largest stdin the protocol carries.
    const pid = execdPid()!;
    const big = Buffer.alloc(1024 * 1024, 'x');
    const replies = await Promise.all(Array.from({ length: 50 }, () => execc(big, 'wc', '-c')));
    assert.ok(replies.some((r) => r.stdout.trim() === String(big.length)), 'some were served');
    const peak = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m)![1]) / 1024;
    t.diagnostic(`execd's peak resident memory after 50 clients with 1 MiB of stdin each: ${peak.toFixed(1)} MiB`);
    assert.ok(peak < 24, `execd's peak RSS is ${peak.toFixed(1)} MiB`);
    // Idle connections beyond the bound are refused, and served again once they close.
    const idle = await Promise.all(Array.from({ length: 70 }, () => new Promise<net.Socket>((resolve) => {
      const socket = net.connect(4000, address, () => resolve(socket));
      socket.on('error', () => {});
    })));
    await sleep(500);
    const refused = await execc('', 'true');
    assert.match(refused.stderr, /busy: 64 connections are open/);
    for (const socket of idle) socket.destroy();
    await assertAlive('70 idle connections');
  });

  test('fork bombs and memory hogs hit the request limits; the OOM killer takes only requests', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const init = fs.readFileSync(`/proc/${leader}/stat`, 'utf8');
    const execd = execdPid();
    // Fork bombs, in sh and in bash: the request's uid never holds more than 8 processes.
    for (const [shell, script] of [['sh', 'f() { f | f & }; f; sleep 5'], ['bash', ':(){ :|:& };:; sleep 5']] as const) {
      let most = 0;
      const bomb = execc('', shell, '-c', script);
      let done = false;
      void bomb.then(() => (done = true));
      while (!done) {
        const perUid = new Map<number, number>();
        for (const { uid } of requestProcessUids()) perUid.set(uid, (perUid.get(uid) ?? 0) + 1);
        most = Math.max(most, ...perUid.values(), 0);
        await sleep(50);
      }
      t.diagnostic(`${shell} fork bomb: at most ${most} processes of its uid at once; ${(await bomb).stderr.trim() || 'exit 0'}`);
      assert.ok(most <= 8 && most > 1, `the ${shell} fork bomb had ${most} processes at once`);
      await assertAlive(`a ${shell} fork bomb`);
    }
    // Memory hogs within each process's limits (2 MiB of data), at rising strength: 1, 4 and 7
    // processes of 1.5 MiB in one request, then 7 in each of the 4 slots at once. The OOM killer
    // acts inside the request slots' cgroups, never in the container's own.
    const memoryCgroup = fs.readFileSync(`/proc/${leader}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'))?.split(':')[2];
    const oomKills = (dir: string) => Number(fs.readFileSync(path.join(dir, 'memory.oom_control'), 'utf8').match(/^oom_kill (\d+)/m)?.[1] ?? 0);
    const containerMemory = memoryCgroup === undefined ? undefined : path.join('/sys/fs/cgroup/memory', memoryCgroup);
    const slotKills = () => [0, 1, 2, 3].reduce((sum, i) => sum + oomKills(path.join(containerMemory!, 'requests', `slot${i}`)), 0);
    const containerKillsBefore = containerMemory ? oomKills(containerMemory) : 0;
    const slotKillsBefore = containerMemory ? slotKills() : 0;
    const hog = (processes: number) => `for i in $(seq ${processes}); do dd if=/dev/zero of=/dev/null bs=1500K count=2000 2>/dev/null & done; wait`;
    for (const [requests, processes] of [[1, 1], [1, 4], [1, 7], [4, 7]] as const) {
      const replies = await Promise.all(Array.from({ length: requests }, () => execc('', 'sh', '-c', hog(processes))));
      t.diagnostic(`${requests} request(s) of ${processes} x 1.5 MiB: ${replies.map((r) => (r.code === 0 ? 'finished' : r.stderr.trim().replace(/^execc: \S+ /, ''))).join('; ')}; slowest ${Math.max(...replies.map((r) => r.ms))} ms`);
      await assertAlive(`${requests} request(s) of ${processes} processes of 1.5 MiB`);
    }
    // No network for requests, not even loopback: connections never accepted had held 345 MiB of
    // the host's memory in a listener's queue, outside every memory cgroup. (The slots' 1 MiB of
    // socket memory stays as a second wall.)
    const tcpHog = 'use Socket; socket(L,PF_INET,SOCK_STREAM,0) or die; bind(L,pack_sockaddr_in(0,inet_aton("127.0.0.1"))) or die; listen(L,64) or die; my $a=getsockname(L); socket(my $c,PF_INET,SOCK_STREAM,0) or die; print connect($c,$a) ? "connected\n" : "refused: $!\n"; socket(my $u,PF_INET,SOCK_DGRAM,0) or die; print defined(send($u,"x",0,$a)) ? "sent\n" : "not sent: $!\n"';
    const loopback = await execc(tcpHog, 'perl', '-');
    t.diagnostic(`a request on loopback: ${loopback.stdout.trim().replace(/\n/g, '; ')}`);
    assert.equal(loopback.code, 0, loopback.stderr);
    assert.match(loopback.stdout, /^refused: Connection refused\nnot sent: Operation not permitted\n$/);
    if (containerMemory) {
      t.diagnostic(`OOM kills: ${slotKills() - slotKillsBefore} in the request slots, ${oomKills(containerMemory) - containerKillsBefore} in the container's own cgroup`);
      assert.ok(slotKills() > slotKillsBefore, 'the hogs met their slots\' memory limits');
      assert.equal(oomKills(containerMemory), containerKillsBefore, 'no OOM kill in the container\'s own cgroup');
    }
    assert.equal(fs.readFileSync(`/proc/${leader}/stat`, 'utf8').split(' ')[21], init.split(' ')[21], 'the same init');
    assert.equal(execdPid(), execd, 'the same execd: the OOM killer never took it');
  });

  test('storage: /tmp, /var/tmp and /dev/shm are small tmpfs, and nothing a request writes outlives it', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const hostView = ['tmp', 'var/tmp'].map((d) => path.join(rig!.rootfs, d));
    const before = hostView.map((d) => fs.readdirSync(d).length);
    for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) {
      for (const size of ['1M', '28M', '400M']) {
        await execc('', 'sh', '-c', `head -c ${size} /dev/zero > ${dir}/fill-${size}; mkdir -p ${dir}/d/e; chmod 000 ${dir}/d`);
        await assertAlive(`${size} written to ${dir}`);
      }
      // A tree deeper than any path the kernel takes, locked at the bottom, with 1 MiB in it.
      const deep = `chdir "${dir}" or die; my $n = "d" x 250; for (1..18) { mkdir $n, 0700 or die; chdir $n or die } mkdir "x", 0700; open F, ">x/payload" or die; print F "Z" x 1048576; close F; chmod 0, "x"; print "buried\n"`;
      const buried = await execc(deep, 'perl', '-');
      assert.equal(buried.stdout, 'buried\n', buried.stderr);
    }
    // Three requests leaving 2,500 folders each at once: their three reapers, in the container's
    // own memory, had taken it to its limit, and the OOM killer took the container's systemd.
    const init = fs.readFileSync(`/proc/${leader}/stat`, 'utf8').split(' ')[21];
    const folders = 'my $d = "/tmp/o$$"; mkdir $d or die; mkdir "$d/$_" for 1..2500; print "made\\n"';
    const made = await Promise.all([1, 2, 3].map(() => execc(folders, 'perl', '-')));
    assert.deepEqual(made.map((r) => r.stdout), ['made\n', 'made\n', 'made\n'], made.map((r) => r.stderr).join(' '));
    await assertAlive('three requests of 2,500 folders each');
    assert.equal(fs.readFileSync(`/proc/${leader}/stat`, 'utf8').split(' ')[21], init, "the container's init lived on");
    const sizes = await execc('', 'sh', '-c', 'df -k /tmp /var/tmp /dev/shm | tail -n +2');
    for (const line of sizes.stdout.trim().split('\n')) {
      const [fs_, total, used] = line.split(/\s+/);
      assert.equal(fs_, 'tmpfs', line);
      assert.ok(Number(total) <= 4096, `at most 4 MiB: ${line}`);
      assert.ok(Number(used) < 256, `emptied after each request: ${line}`);
    }
    const left = await execc('', 'sh', '-c', 'find /tmp /var/tmp /dev/shm -mindepth 1 -maxdepth 1 ! -name "execd-request-*"');
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.stdout, '', 'every file of the earlier requests is gone');
    assert.deepEqual(hostView.map((d) => fs.readdirSync(d).length), before, "nothing reached the host's disk");
    // Outside those three, nothing is writable: not /run, nor its world-writable /run/lock.
    const writable = await execc('', 'sh', '-c', "find / \\( -path /proc -o -path /sys -o -path /dev -o -path '/tmp/*' -o -path '/var/tmp/*' \\) -prune -o -type d -writable -print 2>/dev/null; true");
    assert.deepEqual(writable.stdout.trim().split('\n').sort(), ['/tmp', '/var/tmp'], writable.stdout);
    const lock = await execc('', 'sh', '-c', 'echo left > /run/lock/left');
    assert.equal(lock.code, 1, 'a request cannot write /run/lock');
    // SysV shared memory is removed with the request too.
    await execc('', 'sh', '-c', 'ipcmk -M 65536 >/dev/null 2>&1; true');
    const ipc = await execc('', 'sh', '-c', 'ipcs -m | grep -c 0x || true');
    assert.equal(ipc.stdout.trim(), '0', 'no shared memory segment outlives its request');
  });

  test('no way out: the container opens no connection to the host or anywhere, and may not start requests', async (t) => {
    if (unavailable) return t.skip(unavailable);
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const hostEnd = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', `ve-${rig!.machine}`], { encoding: 'utf8' }).stdout.match(/inet (\S+)\//)?.[1];
      assert.ok(hostEnd, 'the host end has an address');
      for (const target of [hostEnd, '127.0.0.1', '10.0.0.1']) {
        const dial = await execc('', 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${target}/${target === '127.0.0.1' ? 4000 : port} && echo connected`);
        if (target === '127.0.0.1') {
          // execd inside: a request cannot even connect (requests have no network); execd's own
          // refusal of local peers (an ERR line) is the second wall, proved by its Go tests.
          const self = await execc('', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/4000 && printf "id\\n\\n0\\n" >&3 && head -c 200 <&3');
          assert.equal(self.code, 1, self.stdout);
          assert.doesNotMatch(self.stdout, /uid=/);
          assert.match(self.stderr, /Connection refused/);
        } else {
          assert.equal(dial.code, 1, `${target}: ${dial.stdout}`);
          assert.doesNotMatch(dial.stdout, /connected/);
        }
      }
      assert.equal(connections, 0, 'the host listener on 0.0.0.0 saw no connection from the container');
      // The firewall is a task: checked live, put back when removed by hand.
      spawnSync('nft', ['delete', 'table', 'inet', firewallTable(rig!.machine)]);
      const again = await rig!.task('all');
      assert.equal(again.code, 0, again.stdout);
      assert.match(again.stdout, /firewall: running \(its check found the live state out of date\)/);
      assert.equal(spawnSync('nft', ['list', 'table', 'inet', firewallTable(rig!.machine)]).status, 0);
      // start depends on the firewall, so the container was restarted behind its new table.
      leader = containerLeader(rig!.nspawnPid()!)!;
      address = fs.readFileSync(rig!.hostsFile, 'utf8').match(new RegExp(`^(\\S+) ${rig!.machine}$`, 'm'))![1]!;
    } finally {
      server.close();
    }
    await assertAlive('the connection attempts');
  });
});
