// Facts about processes and links read from /proc and /sys: cheap enough for checks that run on
// every build, and no command to spawn.
import fs from 'node:fs';

const read = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** True while the process exists and is not a zombie (PID 1 here may never reap orphans). */
export function processAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** The process's command line as words. */
export function commandLineOf(pid: number): string[] {
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
}

/** Children of a process (all its threads'). */
function childrenOf(pid: number): number[] {
  const tasks = (() => {
    try {
      return fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
  })();
  return tasks.flatMap((tid) => (read(`/proc/${pid}/task/${tid}/children`) ?? '').trim().split(/\s+/).filter(Boolean).map(Number));
}

/** Every descendant of a process, breadth first. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...childrenOf(next));
  }
  return out;
}

/** The container's init: the descendant that is PID 1 of a new pid namespace ("NSpid: 24017 1"). */
export function containerLeader(nspawnPid: number): number | undefined {
  return descendantsOf(nspawnPid).find((pid) => {
    const nspid = read(`/proc/${pid}/status`)?.match(/^NSpid:\s+(.*)$/m)?.[1]?.trim().split(/\s+/);
    return nspid !== undefined && nspid.length > 1 && nspid[nspid.length - 1] === '1';
  });
}

/** The real uid of a process. */
export function uidOf(pid: number): number | undefined {
  const uid = read(`/proc/${pid}/status`)?.match(/^Uid:\s+(\d+)/m)?.[1];
  return uid === undefined ? undefined : Number(uid);
}

/** Non-loopback IPv4 addresses local to the network namespace of `pid`, from its fib_trie. */
export function localAddressesOf(pid: number | 'self'): string[] {
  const trie = read(`/proc/${pid}/net/fib_trie`) ?? '';
  const found = new Set<string>();
  let last: string | undefined;
  for (const line of trie.split('\n')) {
    const leaf = line.match(/\|-- (\d+\.\d+\.\d+\.\d+)$/);
    if (leaf) last = leaf[1];
    else if (last && /\/32 host LOCAL/.test(line) && !last.startsWith('127.')) found.add(last);
  }
  return [...found];
}

/** Whether a network link exists in this (the host's) namespace. */
export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}

/** Default routes through a link, from /proc/net/route ("Iface Destination Gateway ..." in hex). */
export function defaultRoutesVia(link: string): number {
  const lines = (read('/proc/net/route') ?? '').split('\n').slice(1);
  return lines.filter((line) => {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    return iface === link && destination === '00000000' && mask === '00000000';
  }).length;
}

export const capSysResource = 24;

/** Whether this process holds a capability in its effective set (CapEff in /proc/self/status). */
export function hostHasCapability(bit: number): boolean {
  const hex = (read('/proc/self/status') ?? '').match(/^CapEff:\s*([0-9a-f]+)$/m)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}
