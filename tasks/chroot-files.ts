// The files prepchroot installs into the rootfs, as text. They are part of the chroot task's
// values, so editing one reruns the task.

/** The unit the seed installed: execd as nobody, listening on the port. */
export function execdUnit(port: number): string {
  return `[Unit]
Description=execd: runs a command sent over TCP and returns its output
After=network.target

[Service]
User=nobody
ExecStart=/usr/local/bin/execd -listen :${port}
Restart=on-failure
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`;
}

/** fig FONT: figlet with a font from /usr/local/share/figlet (extra fonts) or /usr/share/figlet. */
export const figScript = `#!/bin/sh
# fig [FONT]: figlet reading standard input, with extra fonts from /usr/local/share/figlet.
if [ -n "$1" ] && [ -f "/usr/local/share/figlet/$1.flf" ]; then
  exec figlet -f "/usr/local/share/figlet/$1.flf"
elif [ -n "$1" ]; then
  exec figlet -f "$1"
fi
exec figlet
`;

/**
 * The container's link: link-local IPv4 only, no DHCP client, so no default route and no way
 * off the link (the seed wanted no internet in the container).
 */
export const host0Network = `[Match]
Virtualization=container
Name=host0

[Network]
DHCP=no
LinkLocalAddressing=ipv4
IPv6AcceptRA=no
`;
