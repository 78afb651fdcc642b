// The running container, whichever host mode runs it: the interface both hosts implement
// (standalone.ts, systemd-host.ts) and the address helpers they and the tasks share. The tasks
// start, hosts, smoke, stop and status ask these questions and do not care how the container
// was started; host.ts picks the implementation. Nothing here imports a host, so the hosts can
// import this module without a loop.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { TaskFailure, type TaskContext } from '../../src/index.ts';
import { localAddressesOf } from './procfs.ts';

export interface Container {
  /** The pid of the container's init when it is running from the current rootfs, else undefined. */
  leader(): number | undefined;
  /** Starts it (stopping a running one first) and waits until its systemd has booted. */
  start(ctx: TaskContext): Promise<void>;
  /** Stops it and removes what start made on the host (veth, pid file, cgroups). */
  stop(ctx: TaskContext): Promise<void>;
}

/** The container's IPv4 address on its link, read from its network namespace. */
export function containerAddress(leader: number): string | undefined {
  return localAddressesOf(leader).find((address) => address.startsWith('169.254.')) ?? localAddressesOf(leader)[0];
}

/** Waits until the container has its link-local address (networkd sets it once it runs). */
export async function waitForAddress(ctx: TaskContext, leader: number, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const address = containerAddress(leader);
    if (address) return address;
    if (Date.now() > until) throw new TaskFailure(`the container (pid ${leader}) has no IPv4 address on host0 after ${timeoutMs / 1000} s`);
    if (ctx.signal.aborted) throw new TaskFailure('interrupted');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Waits until execd accepts connections on the container's address: systemd counts the container
 * booted once execd's process has started, a moment before it listens.
 */
export async function waitForPort(ctx: TaskContext, address: string, port: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port, timeout: 2000 }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
      socket.on('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (open) return;
    if (Date.now() > until) throw new TaskFailure(`execd does not accept connections on ${address}:${port} after ${timeoutMs / 1000} s: see the logs task`);
    if (ctx.signal.aborted) throw new TaskFailure('interrupted');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The host end's own link-local address, the same for a machine name every time. */
export function hostAddress(machine: string): string {
  const digest = createHash('sha256').update(machine).digest();
  return `169.254.${1 + (digest[0]! % 254)}.${1 + (digest[1]! % 254)}`;
}

/**
 * The container's own link-local address (chroot writes it into host0's network file), the same
 * for a machine name every time and never its host end's. RFC 3927 keeps 169.254.0.x and
 * 169.254.255.x out of use, as hostAddress does.
 */
export function containerStaticAddress(machine: string): string {
  const digest = createHash('sha256').update(machine).digest();
  const address = `169.254.${1 + (digest[2]! % 254)}.${1 + (digest[3]! % 254)}`;
  return address === hostAddress(machine) ? `169.254.${1 + ((digest[2]! + 1) % 254)}.${1 + (digest[3]! % 254)}` : address;
}
