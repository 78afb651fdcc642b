// What the container gets in both host modes: nspawn-config writes it into the .nspawn file that
// systemd reads, the standalone host passes it to systemd-nspawn on its command line.
import { capSysResource, hostHasCapability } from './procfs.ts';

/**
 * The container-wide settings both host modes apply: /tmp and /var/tmp are small tmpfs (counted
 * against the memory limit), not the host's disk; and where the host may lower OOM scores
 * (CAP_SYS_RESOURCE, which some hosts, CI runners among them, withhold even from root), the
 * container's init gets -1000. Requests run at +1000 either way, so while one has a process
 * alive the OOM killer takes a request's process before any other.
 */
export const containerTmpfs = ['/tmp:mode=1777,size=8M', '/var/tmp:mode=1777,size=8M'];
export const containerOomScoreAdjust = (): number | undefined => (hostHasCapability(capSysResource) ? -1000 : undefined);
