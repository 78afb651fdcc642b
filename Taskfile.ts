// The execd recipe: the seed's manual steps as tasks. `npx task all` builds and starts everything
// that is not up to date; `npx task --list` shows the tasks and parameters.
import { task } from './src/index.ts';
import { chrootTask } from './tasks/chroot.ts';
import { execdTask } from './tasks/execd.ts';
import { firewallTask } from './tasks/firewall.ts';
import { hostToolsTask } from './tasks/host-tools.ts';
import { networkdTask, routeTask } from './tasks/host-network.ts';
import { hostsTask } from './tasks/hosts.ts';
import { logsTask } from './tasks/logs.ts';
import { nspawnConfigTask } from './tasks/nspawn-config.ts';
import { recipeParams } from './tasks/lib/params.ts';
import { rootfsTask } from './tasks/rootfs.ts';
import { shellTask } from './tasks/shell.ts';
import { smokeTask } from './tasks/smoke.ts';
import { startTask } from './tasks/start.ts';
import { statusTask } from './tasks/status.ts';
import { stopTask } from './tasks/stop.ts';

const p = recipeParams();

const hostTools = hostToolsTask(p);
const rootfs = rootfsTask(p, [hostTools]); //                        seed step 1
const execd = execdTask(p, [hostTools]); //                          seed step 2
const chroot = chrootTask(p, [rootfs, execd]); //                    seed step 3
const nspawnConfig = nspawnConfigTask(p, []); //                     seed step 4
const networkd = networkdTask(p, [hostTools, nspawnConfig]); //      seed step 5
const firewall = firewallTask(p, [hostTools]); //                    the seed's "no internet access", enforced
const start = startTask(p, [rootfs, chroot, nspawnConfig, networkd, firewall]); // seed step 6
const route = routeTask(p, [start]); //                              seed step 5, the stray route
const hosts = hostsTask(p, [start, route]); //                       seed step 7
const smoke = smokeTask(p, [hosts, execd]); //                       seed step 8
// An operator's targets, none part of all.
stopTask(p);
statusTask(p);
logsTask(p);
shellTask(p);

export default task('all', {
  description: 'builds, starts, names and smoke-tests the container',
  deps: [hostTools, rootfs, execd, chroot, nspawnConfig, networkd, firewall, start, route, hosts, smoke],
});
