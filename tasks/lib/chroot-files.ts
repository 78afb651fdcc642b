// The files prepchroot installs into the rootfs, as text. They are part of the chroot task's
// values, so editing one reruns the task.

/** Requests that run at once; more get an immediate "busy" error. */
export const requestSlots = 4;
/**
 * Request slot i runs as uid and gid 61000+i, and its reaper starts as uid 61000+slots+i
 * (61004-61007), a uid no request runs as: unused by Debian and below systemd's dynamic users.
 */
export const requestUidBase = 61000;
/** Where the host binds the request slots' cgroups (requests/slotN) into the container, when it can. */
export const requestCgroupsInContainer = '/run/execd-cgroups';

/**
 * The seed's unit (execd listening on the port, started at boot), hardened for strangers' requests:
 * - execd runs as its own system user `execd` with CAP_SETUID and CAP_SETGID only, so it can run
 *   each request as an unprivileged uid of its own, and CAP_KILL, to kill a request's process
 *   group at once (CAP_SETUID already allows as much); a request gets none of them (execd clears
 *   its ambient set on every thread, and the launcher checks every thread and set before the program
 *   runs; NoNewPrivileges= keeps setuid binaries from giving any back);
 * - it restarts always and at once, with no start limit a client could trip;
 * - it is never the OOM killer's choice (its requests are, at +1000);
 * - its requests see only their own processes in /proc (ProtectProc=invisible) and nothing else of
 *   it (ProcSubset=pid: /proc/net listed every client's connection to execd), a read-only system
 *   (ProtectSystem=strict leaves /run writable, and /run/lock is open to all: ReadOnlyPaths=/run),
 *   small private tmpfs for /tmp, /var/tmp and /dev/shm (their pages count against the container's
 *   memory), a private IPC namespace, no Unix sockets (no D-Bus, no journal socket), no kernel
 *   tunables, modules, logs, clock or hostname; and connections from the container itself are refused;
 * - where the host bound the request slots' cgroups in (standalone mode), each request runs in its
 *   slot's cgroup, with a memory limit of its own.
 */
export function execdUnit(port: number): string {
  return `[Unit]
Description=execd: runs a command sent over TCP and returns its output
After=network.target
StartLimitIntervalSec=0

[Service]
User=execd
Group=execd
ExecStart=/usr/local/bin/execd -listen :${port} -uid-base ${requestUidBase} -slots ${requestSlots} -refuse-local -cgroups ${requestCgroupsInContainer}
Restart=always
RestartSec=200ms
AmbientCapabilities=CAP_SETUID CAP_SETGID CAP_KILL
CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL
NoNewPrivileges=yes
OOMScoreAdjust=-1000
UMask=0077
ProtectProc=invisible
ProcSubset=pid
ProtectSystem=strict
ReadOnlyPaths=/run
ReadWritePaths=-${requestCgroupsInContainer}
ProtectHome=yes
PrivateDevices=yes
PrivateIPC=yes
TemporaryFileSystem=/tmp:size=4M,mode=1777 /var/tmp:size=2M,mode=1777 /dev/shm:size=2M,mode=1777
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`;
}

/** execd's own system user, made by systemd-sysusers at boot (request uids need no account). */
export const execdSysusers = `u execd - "execd daemon" / /usr/sbin/nologin
`;

/**
 * The container's journal stays in memory (/run) and small: each request logs a line, and a flood
 * of requests must not grow it past the container's memory limit.
 */
export const journaldConf = `[Journal]
Storage=volatile
RuntimeMaxUse=4M
RuntimeMaxFileSize=1M
`;

/**
 * The container's init is started with oom_score_adj -1000 (never the OOM killer's choice); the
 * services it starts go back to 0, execd sets its own -1000 and its requests +1000.
 */
export const systemConf = `[Manager]
DefaultOOMScoreAdjust=0
`;

/**
 * fig: upstream execd's figlet wrapper (execd/figlet/fig), with its interface, usage message and
 * exit codes: `fig DIR FONT` (figlet on font FONT of the subfolder DIR, text on stdin), `fig ls
 * [DIR]` (the subfolders, or the fonts in one), `fig default` (the default font). Fonts live in
 * /usr/local/share/figlet/{official,contrib}; where that folder is missing (a testing machine),
 * Debian's /usr/share/figlet takes its place, as upstream's did. Unlike upstream, DIR and FONT
 * are single names: one holding '/' or '..' (`fig .. x`, `fig official ../../etc/x`) is refused
 * with exit 1 before figlet runs, and figlet runs in the font folder (it also looks for a font
 * in its working folder), so no request can make figlet read a file outside the font folder;
 * variables are quoted. FIG_DIR and FIG_ALTDIR replace the two folders for the unit tests
 * only: execd passes a request arguments, never environment, and a request that could set them
 * could as well run figlet itself.
 */
export const figScript = `#!/bin/sh
# fig: execd's figlet wrapper; the same interface on a testing machine and in the container.

if [ $# -lt 1 ] || [ $# -gt 2 ] ||
   { [ "$1" != ls ] && [ "$1" != default ] && [ -z "$2" ]; }; then
    echo "usage: $0 <dir> <font>  -> exec figlet on font 'font' in subdir 'dir', reading text from stdin"
    echo "       $0 ls [dir]      -> list subdirs or with a subdir as an argument, the fonts in that subdir"
    echo "       $0 default       -> print the default font"
    exit 1
fi >&2

# A folder or font is one name inside the font folder, never a path out of it.
name_ok() {
    case "$2" in
        ''|*/*|*..*)
            echo "fig: invalid $1 name '$2': it must be a single name, without '/' or '..'" >&2
            exit 1 ;;
    esac
}
if [ "$1" = ls ]; then
    [ -z "$2" ] || name_ok folder "$2"
elif [ "$1" != default ]; then
    name_ok folder "$1"
    name_ok font "$2"
fi

# where the chroot task puts the fonts
dir="\${FIG_DIR:-/usr/local/share/figlet}"
# where Debian puts the fonts
altdir="\${FIG_ALTDIR:-/usr/share/figlet}"

if [ ! -d "$dir" ]; then
    if [ ! -d "$altdir" ]; then
        echo "couldn't find the font directory. tried $dir and $altdir." >&2
        exit 2
    else
        dir="$altdir"
    fi
fi

if [ "$1" = ls ]; then
    if [ -z "$2" ]; then
        for d in "$dir"/*; do
            [ -d "$d" ] && basename "$d"
        done
    else
        if [ ! -d "$dir/$2" ]; then
            echo "fig: no font folder '$2' in $dir" >&2
            exit 1
        fi
        for font in "$dir/$2"/*.flf; do
            [ -f "$font" ] || continue
            base="$(basename "$font")"
            echo "\${base%.flf}"
        done
    fi
    exit 0
elif [ "$1" = default ]; then
    exec figlet -I3
else
    # figlet looks for a font it cannot find in -d's folder in its working folder as well: in
    # the font folder too, then.
    if ! cd "$dir/$1" 2>/dev/null; then
        echo "fig: no font folder '$1' in $dir" >&2
        exit 1
    fi
    exec figlet -d "$dir/$1" -f "$2"
fi
`;

/**
 * The container's link: one link-local IPv4 address, fixed per machine name, no DHCP client, so
 * no default route and no way off the link (the seed wanted no internet in the container). Fixed
 * rather than IPv4LL, and without address conflict detection: the veth has two ends, the host's
 * address is fixed too, and IPv4LL's probes held every start up by 3-5 s of waiting.
 */
export function host0Network(address: string): string {
  return `[Match]
Virtualization=container
Name=host0

[Network]
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no

[Address]
Address=${address}/16
DuplicateAddressDetection=none
`;
}

/**
 * Units masked in the container: each does nothing in a container that serves execd and has no
 * network beyond its link, and each costs the boot CPU time under the container's quota (about
 * 2.5 s of its start altogether) or, for the timers, runs jobs later with the requests' memory.
 * dbus, logind, the getty and user sessions stay: `machinectl shell` and `login` use them.
 */
export const maskedUnits = [
  'systemd-sysctl.service', // /proc/sys is read-only in the container
  'systemd-remount-fs.service', // no fstab: nspawn mounts the root
  'systemd-network-generator.service', // network settings from a kernel command line it has not got
  'dev-hugepages.mount',
  'systemd-tmpfiles-setup-dev.service', // static device nodes nspawn does not allow
  'systemd-journal-flush.service', // the journal is volatile: nothing to flush
  'systemd-update-utmp.service',
  'systemd-update-utmp-runlevel.service',
  'apt-daily.timer', // apt with no mirror in reach
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer', // no LVM volume to scrub
];
