// The one place that picks the container's host by p.hostMode. The tasks ask this module for
// the container; the two implementations import only container.ts, never this module.
import { TaskFailure } from '../../src/index.ts';
import type { Container } from './container.ts';
import type { RecipeParams } from './params.ts';
import { standaloneContainer } from './standalone.ts';
import { systemdContainer } from './systemd-host.ts';

export function containerFor(p: RecipeParams): Container {
  return p.hostMode === 'systemd' ? systemdContainer(p) : standaloneContainer(p);
}

/** The pid of the container's init, or a one-line failure when the container is not running. */
export function runningLeader(p: RecipeParams): number {
  const leader = containerFor(p).leader();
  if (leader === undefined) throw new TaskFailure(`the container ${p.machine} is not running (${p.hostMode} mode): the start task starts it`);
  return leader;
}
