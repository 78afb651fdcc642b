// The recipe's pure parts and its parameter checks, without root or a container.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import type { TaskContext } from '../src/index.ts';
import { cpuQuotaMicros, memoryBytes } from '../tasks/lib/cgroup.ts';
import { installFonts, setRootPassword, withPtys } from '../tasks/chroot.ts';
import { containerStaticAddress, hostAddress } from '../tasks/lib/container.ts';
import { host0Network } from '../tasks/lib/chroot-files.ts';
import { writeFileAtomic } from '../tasks/lib/files.ts';
import { lookupHost, withHostsEntry } from '../tasks/lib/hosts-file.ts';
import { formatBytes, liveLimits, timespanMicros } from '../tasks/status.ts';
import { Project, repo } from './helpers/cli-rig.ts';
import { RecipeRig } from './helpers/recipe-rig.ts';

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'recipe-units-'));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

test('the hosts block is added once, replaced in place, and every other byte is kept', () => {
  const crlf = '127.0.0.1 localhost\r\n# comment\r\n::1 ip6-localhost';
  const added = withHostsEntry(crlf, 'execd', '169.254.1.2');
  assert.equal(added, `${crlf}\r\n# BEGIN execd-builder execd\r\n169.254.1.2 execd\r\n# END execd-builder execd\r\n`);
  const replaced = withHostsEntry(`${added}10.0.0.1 after\n`, 'execd', '169.254.9.9');
  assert.equal(replaced, `${crlf}\r\n# BEGIN execd-builder execd\r\n169.254.9.9 execd\r\n# END execd-builder execd\r\n10.0.0.1 after\n`);
  assert.equal(withHostsEntry('', 'x', '169.254.0.1'), '# BEGIN execd-builder x\n169.254.0.1 x\n# END execd-builder x\n');
  const two = withHostsEntry(withHostsEntry('a b\n', 'one', '1.1.1.1'), 'two', '2.2.2.2');
  assert.equal(lookupHost(two, 'one'), '1.1.1.1');
  assert.equal(lookupHost(two, 'two'), '2.2.2.2');
});

test('lookupHost reads the file as the resolver does', () => {
  const text = '# 1.2.3.4 execd\n10.0.0.1   other   execd\r\n10.0.0.2 execd\n';
  assert.equal(lookupHost(text, 'execd'), '10.0.0.1');
  assert.equal(lookupHost(text, 'nobody'), undefined);
});

test('writeFileAtomic replaces the whole file, keeps its mode, and leaves no temporary file', () => {
  const dir = fs.mkdtempSync(path.join(temp, 'atomic-'));
  const file = path.join(dir, 'hosts');
  fs.writeFileSync(file, 'old\n', { mode: 0o640 });
  const big = 'x'.repeat(1 << 20);
  writeFileAtomic(file, big);
  assert.equal(fs.readFileSync(file, 'utf8'), big);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(fs.readdirSync(dir), ['hosts'], 'no temporary file is left');
});

test("writeFileAtomic keeps an existing file's owner, group and mode, and replaces a symbolic link instead of following it", { skip: process.getuid?.() !== 0 && 'needs root to chown' }, () => {
  // As /etc/shadow is root:shadow 0640: the new text must not make it world-readable or root's.
  const shadow = path.join(temp, 'shadow');
  fs.writeFileSync(shadow, 'old\n');
  fs.chownSync(shadow, 1234, 4321);
  fs.chmodSync(shadow, 0o640);
  writeFileAtomic(shadow, 'new\n');
  let stat = fs.statSync(shadow);
  assert.deepEqual([stat.uid, stat.gid, stat.mode & 0o7777], [1234, 4321, 0o640]);
  assert.equal(fs.readFileSync(shadow, 'utf8'), 'new\n');
  // A mode given is used; the owner is still kept.
  writeFileAtomic(shadow, 'newer\n', 0o600);
  stat = fs.statSync(shadow);
  assert.deepEqual([stat.uid, stat.gid, stat.mode & 0o7777], [1234, 4321, 0o600]);
  // A link in a container's root folder may point at the host's own file: it is replaced.
  const hostFile = path.join(temp, 'host-hostname');
  fs.writeFileSync(hostFile, 'host\n');
  const link = path.join(temp, 'rootfs-hostname');
  fs.symlinkSync(hostFile, link);
  writeFileAtomic(link, 'container\n');
  assert.equal(fs.readFileSync(hostFile, 'utf8'), 'host\n', 'the file the link pointed at is untouched');
  assert.equal(fs.lstatSync(link).isFile(), true);
  assert.equal(fs.readFileSync(link, 'utf8'), 'container\n');
  // A new file: 0644, whatever the umask.
  const fresh = path.join(temp, 'sub', 'fresh');
  const umask = process.umask(0o077);
  try {
    writeFileAtomic(fresh, 'x');
  } finally {
    process.umask(umask);
  }
  assert.equal(fs.statSync(fresh).mode & 0o7777, 0o644);
});

test('prepchroot helpers: root policy and securetty', () => {
  const shadow = 'root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n';
  assert.equal(setRootPassword(shadow, 'passwordless'), shadow.replace('root:*:', 'root::'));
  assert.equal(setRootPassword(setRootPassword(shadow, 'passwordless'), 'locked'), shadow);
  assert.equal(withPtys('console\n'), `console\n${Array.from({ length: 9 }, (_, i) => `pts/${i}`).join('\n')}\n`);
  assert.equal(withPtys(withPtys('console')), withPtys('console'), 'adding twice adds nothing');
});

test('limits and addresses', () => {
  assert.equal(cpuQuotaMicros('10%'), 10_000);
  assert.equal(cpuQuotaMicros('150%'), 150_000);
  assert.equal(memoryBytes('32M'), 33_554_432);
  assert.equal(memoryBytes('1G'), 1_073_741_824);
  assert.equal(memoryBytes('4096'), 4096);
  assert.match(hostAddress('execd'), /^169\.254\.(\d+)\.(\d+)$/);
  assert.equal(hostAddress('execd'), hostAddress('execd'));
  assert.notEqual(hostAddress('execd'), hostAddress('other'));
});

test('the container has a fixed link-local address per machine, never its host end\'s, without IPv4LL probing', () => {
  const usable = (address: string) => {
    const [, third, fourth] = /^169\.254\.(\d+)\.(\d+)$/.exec(address)!.map(Number);
    return third! >= 1 && third! <= 254 && fourth! >= 1 && fourth! <= 254;
  };
  for (let i = 0; i < 2000; i++) {
    const machine = `m${i}`;
    const address = containerStaticAddress(machine);
    assert.ok(usable(address), `${machine}: ${address} is in RFC 3927's usable range`);
    assert.notEqual(address, hostAddress(machine), machine);
    assert.equal(address, containerStaticAddress(machine));
  }
  const network = host0Network(containerStaticAddress('execd'));
  assert.match(network, new RegExp(`^Address=${containerStaticAddress('execd').replaceAll('.', '\\.')}/16$`, 'm'));
  assert.match(network, /^LinkLocalAddressing=no$/m);
  assert.match(network, /^DuplicateAddressDetection=none$/m);
  assert.match(network, /^DHCP=no$/m);
});

test('status: the tightest memory and CPU limits above a process, from cgroup v1 controllers or a pure v2 hierarchy', () => {
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${text}\n`);
  };
  // v1, as on this project's VM: cpu and memory mounted apart, the container's init in a child
  // cgroup of the one holding the limits; a looser limit above, none at the top.
  const v1 = path.join(temp, 'cgroup-v1');
  write(path.join(v1, 'memory/memory.limit_in_bytes'), '9223372036854771712');
  write(path.join(v1, 'memory/job/memory.limit_in_bytes'), String(2 ** 30));
  write(path.join(v1, 'memory/job/execd-builder-x/memory.limit_in_bytes'), '33554432');
  write(path.join(v1, 'memory/job/execd-builder-x/memory.usage_in_bytes'), String(12 * 2 ** 20));
  write(path.join(v1, 'memory/job/execd-builder-x/payload/memory.limit_in_bytes'), '9223372036854771712');
  write(path.join(v1, 'cpu,cpuacct/cpu.cfs_quota_us'), '-1');
  write(path.join(v1, 'cpu,cpuacct/cpu.cfs_period_us'), '100000');
  write(path.join(v1, 'cpu,cpuacct/execd-builder-x/cpu.cfs_quota_us'), '10000');
  write(path.join(v1, 'cpu,cpuacct/execd-builder-x/cpu.cfs_period_us'), '100000');
  const procV1 = '9:name=systemd:/payload/init.scope\n4:memory:/job/execd-builder-x/payload\n2:cpu,cpuacct:/execd-builder-x\n0::/payload/init.scope\n';
  assert.deepEqual(liveLimits(procV1, v1), {
    memory: { value: 33_554_432, where: path.join(v1, 'memory/job/execd-builder-x') },
    memoryUsed: 12 * 2 ** 20,
    cpu: { value: 10, where: path.join(v1, 'cpu,cpuacct/execd-builder-x') },
  });
  // Pure v2: one hierarchy, "max" where there is no limit.
  const v2 = path.join(temp, 'cgroup-v2');
  write(path.join(v2, 'cgroup.controllers'), 'cpu memory');
  write(path.join(v2, 'execd-builder-x/memory.max'), '33554432');
  write(path.join(v2, 'execd-builder-x/memory.current'), '4096');
  write(path.join(v2, 'execd-builder-x/cpu.max'), '25000 100000');
  write(path.join(v2, 'execd-builder-x/init.scope/memory.max'), 'max');
  write(path.join(v2, 'execd-builder-x/init.scope/cpu.max'), 'max 100000');
  assert.deepEqual(liveLimits('0::/execd-builder-x/init.scope\n', v2), {
    memory: { value: 33_554_432, where: path.join(v2, 'execd-builder-x') },
    memoryUsed: 4096,
    cpu: { value: 25, where: path.join(v2, 'execd-builder-x') },
  });
  assert.deepEqual(liveLimits('0::/elsewhere\n', v2), { memory: undefined, cpu: undefined }, 'no limit anywhere above');
  assert.equal(formatBytes(33_554_432), '32M');
  assert.equal(formatBytes(12_328_960), '11.8M');
  assert.equal(formatBytes(2 ** 30), '1G');
  assert.equal(formatBytes(512), '512B');
  // systemd's CPUQuotaPerSecUSec=, in microseconds (10,000 of them a second are 1%).
  assert.equal(timespanMicros('100ms'), 100_000);
  assert.equal(timespanMicros('1s 500ms'), 1_500_000);
  assert.equal(timespanMicros('2.5s'), 2_500_000);
  assert.equal(timespanMicros('infinity'), undefined);
});

function fakeContext(): TaskContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    name: 'chroot',
    root: temp,
    values: {},
    signal: new AbortController().signal,
    stateDir: temp,
    lines,
    log: (line) => void lines.push(line),
    discovered: () => {},
    exec: async (file, args = []) => {
      const stdout = execFileSync(file, [...args], { encoding: 'utf8' });
      return { stdout, stderr: '', exitCode: 0 };
    },
  };
}

test("fonts: Debian's figlet fonts become official, archives contrib, installed only after every sha256 matches", async () => {
  const src = path.join(temp, 'fontsrc');
  fs.mkdirSync(path.join(src, 'fonts'), { recursive: true });
  fs.writeFileSync(path.join(src, 'fonts', 'banner3.flf'), 'flf2a$ 1 1 1 0 0\n');
  fs.writeFileSync(path.join(src, 'fonts', 'evil.sh'), '#!/bin/sh\n');
  const archive = path.join(temp, 'fonts.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', src, 'fonts']);
  const sha256 = createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
  const url = pathToFileURL(archive).href;
  const rootfs = path.join(temp, 'rootfs');
  const fonts = path.join(rootfs, 'usr/local/share/figlet');

  await assert.rejects(installFonts(fakeContext(), [], rootfs), /no figlet font in .*usr\/share\/figlet: is figlet in the packages list\?/);
  // The rootfs's /usr/share/figlet as Debian's figlet package leaves it, plus what must not be
  // copied: a link (an absolute one would resolve on the host), a subfolder, another file.
  const debian = path.join(rootfs, 'usr/share/figlet');
  fs.mkdirSync(path.join(debian, 'sub'), { recursive: true });
  for (const name of ['slant.flf', 'standard.flf', 'utf8.flc', 'sub/deep.flf', 'README']) fs.writeFileSync(path.join(debian, name), 'flf2a$ 1 1 1 0 0\n');
  fs.symlinkSync('/etc/passwd', path.join(debian, 'linked.flf'));

  await assert.rejects(
    installFonts(fakeContext(), [{ url, sha256 }, { url, sha256: '0'.repeat(64) }], rootfs),
    /sha256 is [0-9a-f]{64}, expected 0{64}; nothing installed/,
  );
  assert.equal(fs.existsSync(fonts), false, 'a mismatch installs nothing, not even the good archive');

  const ctx = fakeContext();
  await installFonts(ctx, [{ url, sha256 }], rootfs);
  assert.deepEqual(fs.readdirSync(fonts).sort(), ['contrib', 'official']);
  assert.deepEqual(fs.readdirSync(path.join(fonts, 'official')).sort(), ['slant.flf', 'standard.flf', 'utf8.flc'], "Debian's regular font files, no link");
  assert.deepEqual(fs.readdirSync(path.join(fonts, 'contrib')), ['banner3.flf'], "only the archive's font files");
  for (const dir of [fonts, path.join(fonts, 'official'), path.join(fonts, 'contrib')]) assert.equal(fs.statSync(dir).mode & 0o777, 0o755, dir);
  assert.equal(fs.statSync(path.join(fonts, 'contrib', 'banner3.flf')).mode & 0o777, 0o644);
  assert.ok(ctx.lines.some((l) => /installed 3 font file\(s\) of Debian's figlet package/.test(l)), ctx.lines.join('\n'));

  // Dropping the archive from the list drops its fonts: the folder is made anew.
  await installFonts(fakeContext(), [], rootfs);
  assert.deepEqual(fs.readdirSync(path.join(fonts, 'contrib')), []);
  assert.equal(fs.readdirSync(path.join(fonts, 'official')).length, 3);
  assert.deepEqual(fs.readdirSync(path.dirname(fonts)), ['figlet'], 'no temporary folder is left');
});

test('recipe parameters aimed at the shell or the file system are refused before anything runs', async () => {
  const cases: Array<[string, RegExp]> = [
    ['machine=x; rm -rf /', /parameter machine: "x; rm -rf \/" is not valid/],
    ['machine=../../etc', /parameter machine: "\.\.\/\.\.\/etc" is not valid/],
    ['machine=abcdefghijklm', /at most 12 characters/],
    ['port=abc', /parameter port: 'abc' is not a number/],
    ['port=70000', /parameter port: 70000 is not valid/],
    ['hostsFile=relative/hosts', /parameter hostsFile: .* must be an absolute path/],
    ['fonts=http://example.invalid/f.tgz', /parameter fonts: .* URL#sha256/],
    ['suite=$(reboot)', /parameter suite: .* is not valid/],
    ['rootLogin=open', /locked or passwordless/],
  ];
  const cli = new Project('');
  after(() => cli.remove());
  for (const [arg, message] of cases) {
    const result = await cli.runIn(repo, '-n', arg);
    assert.equal(result.code, 2, `${arg}: ${result.stderr}`);
    assert.match(result.stderr, message, arg);
  }
});

test('status, logs and shell say in one line that the container is not running, and exit 1', async () => {
  // A copy of the recipe (its own .task) and a machine name nothing runs under.
  const rig = new RecipeRig('127.0.0.1 localhost\n');
  after(() => rig.cleanup());
  for (const target of ['status', 'logs', 'shell']) {
    const run = await rig.task(target);
    assert.equal(run.code, 1, `${target}: ${run.stdout}${run.stderr}`);
    const failure = `task '${target}' failed: the container ${rig.machine} is not running (standalone mode): the start task starts it`;
    // Failures are reported on stderr (issue 14).
    assert.ok(run.stderr.split('\n').includes(failure), run.stderr);
  }
});
