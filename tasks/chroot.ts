// Seed step 3, "prepchroot": install execd, fig and the unit into the rootfs, enable execd and
// networkd, mask the units a container serving execd does not need, give host0 its fixed
// address, write the hostname, fix securetty where it exists, set the root account policy, and
// install the figlet fonts: Debian's as `official`, extra archives (sha256 checked) as `contrib`.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeInputs, task, TaskFailure, type TaskContext, type TaskRef } from '../src/index.ts';
import { execdSysusers, execdUnit, figScript, host0Network, journaldConf, maskedUnits, systemConf } from './lib/chroot-files.ts';
import { containerStaticAddress } from './lib/container.ts';
import { execdBinary } from './lib/execd-binaries.ts';
import { writeFileAtomic } from './lib/files.ts';
import type { RecipeParams } from './lib/params.ts';


/** /etc/shadow with root's password field set: '*' locks it, '' lets `machinectl login` in without one. */
export function setRootPassword(shadow: string, login: 'locked' | 'passwordless'): string {
  return shadow.replace(/^root:[^:\n]*:/m, login === 'locked' ? 'root:*:' : 'root::');
}

/** securetty with pts/0..pts/8 added once each. */
export function withPtys(securetty: string): string {
  const lines = securetty.split('\n');
  const missing = Array.from({ length: 9 }, (_, i) => `pts/${i}`).filter((pty) => !lines.includes(pty));
  if (missing.length === 0) return securetty;
  return `${securetty}${securetty.endsWith('\n') || securetty === '' ? '' : '\n'}${missing.join('\n')}\n`;
}

async function download(url: string, signal: AbortSignal): Promise<Buffer> {
  if (url.startsWith('file://')) return fs.readFileSync(new URL(url));
  const response = await fetch(url, { signal });
  if (!response.ok) throw new TaskFailure(`font archive ${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Where the fonts go in the rootfs: `official` and `contrib` under it, as upstream's prepchroot made them. */
export const fontDir = 'usr/local/share/figlet';
/** Where Debian's figlet package installs figlet's own fonts (figlet.org's "ours" set). */
export const debianFontDir = 'usr/share/figlet';

const isFontName = (name: string) => /\.fl[fc]$/.test(name);

/** Copies the font files (.flf, .flc) found anywhere under `from` into `to`; returns how many. */
function copyFonts(from: string, to: string, recursive: boolean): number {
  // Regular files only: a link is never followed, since an absolute one would resolve on the
  // host, not in the rootfs or the archive.
  const files = fs.readdirSync(from, { recursive, withFileTypes: true }).filter((e) => e.isFile() && isFontName(e.name));
  for (const entry of files) {
    const target = path.join(to, entry.name);
    fs.copyFileSync(path.join(entry.parentPath ?? entry.path, entry.name), target);
    fs.chmodSync(target, 0o644);
  }
  return files.length;
}

/**
 * The rootfs's font folder, made anew: `official` holds the fonts of Debian's figlet package
 * (figlet's own distribution fonts, the set of figlet.org's "ours" archive, so `fig official
 * slant` works out of the box with no download), `contrib` the fonts of the `fonts` archives.
 * Every archive is downloaded and its digest checked before anything is installed; the new folder
 * replaces the old one whole, so a font of an archive no longer listed does not linger.
 */
export async function installFonts(ctx: TaskContext, fonts: RecipeParams['fonts'], rootfs: string): Promise<void> {
  const archives: Buffer[] = [];
  for (const font of fonts) {
    const data = await download(font.url, ctx.signal);
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== font.sha256) {
      throw new TaskFailure(`font archive ${font.url}: sha256 is ${digest}, expected ${font.sha256}; nothing installed`);
    }
    archives.push(data);
  }
  const target = path.join(rootfs, fontDir);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const building = fs.mkdtempSync(path.join(path.dirname(target), '.figlet.new-'));
  try {
    // mkdtemp made it 0700: the container's users (execd runs requests as nobody) must read it.
    fs.chmodSync(building, 0o755);
    for (const sub of ['official', 'contrib']) fs.mkdirSync(path.join(building, sub), { mode: 0o755 });
    // Debian's own fonts need no digest of ours: debootstrap checked the figlet .deb's sha256
    // against the Packages index, and that index's sha256 against the Release file signed with
    // Debian's archive key (as apt does). Only regular files at the top of the folder are taken.
    const debian = path.join(rootfs, debianFontDir);
    const official = fs.existsSync(debian) ? copyFonts(debian, path.join(building, 'official'), false) : 0;
    if (official === 0) throw new TaskFailure(`no figlet font in ${debian}: is figlet in the packages list?`);
    ctx.log(`installed ${official} font file(s) of Debian's figlet package in /${fontDir}/official`);
    for (const [i, data] of archives.entries()) {
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'execd-fonts-'));
      try {
        const archive = path.join(scratch, 'fonts.tar');
        fs.writeFileSync(archive, data);
        fs.mkdirSync(path.join(scratch, 'out'));
        await ctx.exec('tar', ['-xf', archive, '-C', path.join(scratch, 'out'), '--no-same-owner', '--no-same-permissions']);
        // Only font files are copied in: an archive cannot place anything else in the rootfs.
        const copied = copyFonts(path.join(scratch, 'out'), path.join(building, 'contrib'), true);
        if (copied === 0) throw new TaskFailure(`font archive ${fonts[i]!.url} holds no .flf or .flc file`);
        ctx.log(`installed ${copied} font file(s) from ${fonts[i]!.url} in /${fontDir}/contrib`);
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    }
    const old = `${building}.old`;
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(building, target);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
}

export function chrootTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const inRootfs = (file: string) => path.join(p.rootfs, file);
  return task('chroot', {
    description: 'prepchroot: execd, fig, the unit, enabled and masked units, fixed address, hostname, securetty, root policy, fonts (official, contrib)',
    deps,
    inputs: [execdBinary, ...codeInputs(import.meta.url, p.root)],
    values: {
      rootfs: p.rootfs,
      hostname: p.machine,
      unit: execdUnit(p.port),
      fig: figScript,
      network: host0Network(containerStaticAddress(p.machine)),
      masked: maskedUnits,
      sysusers: execdSysusers,
      journald: journaldConf,
      system: systemConf,
      rootLogin: p.rootLogin,
      fonts: p.fonts.map((f) => `${f.url}#${f.sha256}`),
    },
    outputs: [
      inRootfs('usr/local/bin/execd'),
      inRootfs('usr/local/bin/fig'),
      inRootfs('etc/systemd/system/execd.service'),
      inRootfs('etc/systemd/network/10-host0.network'),
      inRootfs('etc/sysusers.d/execd.conf'),
      inRootfs('etc/systemd/journald.conf.d/execd-builder.conf'),
      inRootfs('etc/systemd/system.conf.d/execd-builder.conf'),
      inRootfs('etc/hostname'),
      inRootfs(`${fontDir}/official`),
    ],
    run: async (ctx) => {
      // Fonts first: a bad digest fails the task before anything else changes.
      await installFonts(ctx, p.fonts, p.rootfs);
      writeFileAtomic(inRootfs('usr/local/bin/execd'), fs.readFileSync(path.join(ctx.root, execdBinary)), 0o755);
      writeFileAtomic(inRootfs('usr/local/bin/fig'), figScript, 0o755);
      writeFileAtomic(inRootfs('etc/systemd/system/execd.service'), execdUnit(p.port));
      writeFileAtomic(inRootfs('etc/systemd/network/10-host0.network'), host0Network(containerStaticAddress(p.machine)));
      writeFileAtomic(inRootfs('etc/sysusers.d/execd.conf'), execdSysusers);
      writeFileAtomic(inRootfs('etc/systemd/journald.conf.d/execd-builder.conf'), journaldConf);
      writeFileAtomic(inRootfs('etc/systemd/system.conf.d/execd-builder.conf'), systemConf);
      writeFileAtomic(inRootfs('etc/hostname'), `${p.machine}\n`);
      // Offline enable: the [Install] sections' symlinks, as `systemctl enable` makes them.
      await ctx.exec('systemctl', ['--root', p.rootfs, 'enable', 'execd.service', 'systemd-networkd.service']);
      await ctx.exec('systemctl', ['--root', p.rootfs, 'mask', ...maskedUnits]);
      const securetty = inRootfs('etc/securetty');
      if (fs.existsSync(securetty)) writeFileAtomic(securetty, withPtys(fs.readFileSync(securetty, 'utf8')));
      else ctx.log('no /etc/securetty in the rootfs (login no longer reads it): nothing to add');
      const shadow = inRootfs('etc/shadow');
      writeFileAtomic(shadow, setRootPassword(fs.readFileSync(shadow, 'utf8'), p.rootLogin), 0o640);
    },
  });
}
