// The recipe's nftables table for the container's link: its rules, whether it is in the kernel
// as written, installing and removing it. The firewall task installs it; stop removes it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { TaskFailure, type TaskContext } from '../../src/index.ts';
import { containerStaticAddress } from './container.ts';
import type { RecipeParams } from './params.ts';

/** nft names allow no '-': a machine name (a-z, 0-9, -) maps one to one onto a table name. */
export function firewallTable(machine: string): string {
  return `execd_builder_${machine.replace(/-/g, '_')}`;
}

/**
 * The rules. Input and forward: from the container's link only replies to connections the host
 * opened pass; anything it starts is dropped, to the host (every service bound to 0.0.0.0) and
 * beyond. Output: the host may open connections to the container's port (and ping it), nothing else;
 * and nothing for the container's address leaves by another link: once the container is gone (its
 * link with it), a stale address in the hosts file must not send smoke tests or clients off to
 * whatever else answers there (an attack's client got an HTTP reply from such an address).
 */
export function firewallRules(p: Pick<RecipeParams, 'machine' | 'port'>): string {
  const link = `ve-${p.machine}`;
  return `table inet ${firewallTable(p.machine)} {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname "${link}" ct state established,related accept
    iifname "${link}" counter drop
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "${link}" counter drop
    oifname "${link}" counter drop
  }
  chain output {
    type filter hook output priority filter - 10; policy accept;
    ip daddr ${containerStaticAddress(p.machine)} oifname != "${link}" counter drop
    oifname "${link}" ct state established,related accept
    oifname "${link}" tcp dport ${p.port} accept
    oifname "${link}" icmp type echo-request accept
    oifname "${link}" counter drop
  }
}
`;
}

/** How many rules the table holds when intact. */
const ruleCount = (rules: string) => rules.split("\n").filter((line) => /^\s+(iifname|oifname|ip daddr)/.test(line)).length;

/** The table's digest is its comment: a table changed or flushed by hand no longer matches. */
function tagged(rules: string): { text: string; tag: string } {
  const tag = `execd-builder ${createHash('sha256').update(rules).digest('hex').slice(0, 16)}`;
  return { text: rules.replace(/\{\n/, `{\n  comment "${tag}"\n`), tag };
}

/** Whether the table is in the kernel as this recipe wrote it (its comment and every rule). */
export function firewallInstalled(p: Pick<RecipeParams, 'machine' | 'port'>): boolean {
  const rules = firewallRules(p);
  let listing: string;
  try {
    listing = execFileSync('nft', ['list', 'table', 'inet', firewallTable(p.machine)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return false;
  }
  // The JSON listing of nft 1.0.6 leaves the table's comment out: the text listing has it.
  return listing.includes(`comment "${tagged(rules).tag}"`) && ruleCount(listing) === ruleCount(rules);
}

/** Replaces the table in one transaction: never a moment without rules once it is there. */
export async function installFirewall(ctx: TaskContext, p: RecipeParams): Promise<void> {
  const table = firewallTable(p.machine);
  const { text } = tagged(firewallRules(p));
  // `add` then `delete` makes the delete succeed whether or not the table existed; the whole
  // script is one atomic transaction.
  const script = `add table inet ${table}\ndelete table inet ${table}\n${text}`;
  await ctx.exec('nft', ['-f', '-'], { input: script });
  if (!firewallInstalled(p)) throw new TaskFailure(`nft accepted the table ${table} but it does not list as written`);
  ctx.log(`table inet ${table}: ve-${p.machine} may answer on port ${p.port}; nothing it opens passes`);
}

/** Removes the table, if it is there. */
export async function removeFirewall(ctx: TaskContext, p: Pick<RecipeParams, 'machine'>): Promise<void> {
  const table = firewallTable(p.machine);
  const removed = await ctx.exec('nft', ['delete', 'table', 'inet', table], { reject: false, quiet: true });
  ctx.log(removed.exitCode === 0 ? `removed the firewall table inet ${table}` : `no firewall table inet ${table}`);
}

/** The table inside the container's own network namespace that keeps requests off the network. */
export const requestNetworkTable = 'execd_requests';

/**
 * Requests have no network at all, not even loopback: nothing a request's uid (or its reaper's)
 * sends leaves its socket. Loopback connections never accepted hold their buffers outside any
 * memory cgroup (one request had held 345 MiB of the host's memory in a listener's queue), and
 * execd serves nothing a request needs over the network. execd's own sockets (uid execd) pass.
 * A TCP connection is refused at once (a dropped SYN would be sent again until connect times out).
 * Written as a replacement, so that installing it twice leaves one table.
 */
export function requestNetworkRules(firstUid: number, lastUid: number): string {
  return `table inet ${requestNetworkTable}
delete table inet ${requestNetworkTable}
table inet ${requestNetworkTable} {
  chain output {
    type filter hook output priority filter - 10; policy accept;
    meta skuid ${firstUid}-${lastUid} meta l4proto tcp counter reject with tcp reset
    meta skuid ${firstUid}-${lastUid} counter drop
  }
}
`;
}

/** Installs the request rules in the network namespace of the process `leader` (the container's init). */
export async function closeRequestNetwork(ctx: TaskContext, leader: number, firstUid: number, lastUid: number): Promise<void> {
  await ctx.exec('nsenter', ['-t', String(leader), '-n', 'nft', '-f', '-'], { input: requestNetworkRules(firstUid, lastUid) });
}
