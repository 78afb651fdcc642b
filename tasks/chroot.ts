// Seed step 3, "prepchroot": install execd, fig and the unit into the rootfs, enable execd and
// networkd, write the hostname, fix securetty where it exists, set the root account policy, and
// unpack extra figlet fonts after checking their sha256.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { task, TaskFailure, type TaskContext, type TaskRef } from '../src/index.ts';
import { execdUnit, figScript, host0Network } from './chroot-files.ts';
import { execdBinary } from './execd.ts';
import { writeFileAtomic } from './files.ts';
import type { RecipeParams } from './params.ts';


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

/** Downloads every archive and checks every digest before anything is installed. */
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
  const fontDir = path.join(rootfs, 'usr/local/share/figlet');
  for (const [i, data] of archives.entries()) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'execd-fonts-'));
    try {
      const archive = path.join(scratch, 'fonts.tar');
      fs.writeFileSync(archive, data);
      fs.mkdirSync(path.join(scratch, 'out'));
      await ctx.exec('tar', ['-xf', archive, '-C', path.join(scratch, 'out'), '--no-same-owner', '--no-same-permissions']);
      // Only font files are copied in: an archive cannot place anything else in the rootfs.
      const files = fs.readdirSync(path.join(scratch, 'out'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.fl[fc]$/.test(e.name));
      if (files.length === 0) throw new TaskFailure(`font archive ${fonts[i]!.url} holds no .flf or .flc file`);
      fs.mkdirSync(fontDir, { recursive: true });
      for (const entry of files) fs.copyFileSync(path.join(entry.parentPath ?? entry.path, entry.name), path.join(fontDir, entry.name));
      ctx.log(`installed ${files.length} font(s) from ${fonts[i]!.url}`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
}

export function chrootTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const inRootfs = (file: string) => path.join(p.rootfs, file);
  return task('chroot', {
    description: 'prepchroot: execd, fig, the unit, enabled units, hostname, securetty, root policy, fonts',
    deps,
    inputs: [execdBinary, 'tasks/chroot.ts', 'tasks/chroot-files.ts', 'tasks/files.ts'],
    values: {
      rootfs: p.rootfs,
      hostname: p.machine,
      unit: execdUnit(p.port),
      fig: figScript,
      network: host0Network,
      rootLogin: p.rootLogin,
      fonts: p.fonts.map((f) => `${f.url}#${f.sha256}`),
    },
    outputs: [
      inRootfs('usr/local/bin/execd'),
      inRootfs('usr/local/bin/fig'),
      inRootfs('etc/systemd/system/execd.service'),
      inRootfs('etc/systemd/network/10-host0.network'),
      inRootfs('etc/hostname'),
    ],
    run: async (ctx) => {
      // Fonts first: a bad digest fails the task before anything else changes.
      await installFonts(ctx, p.fonts, p.rootfs);
      writeFileAtomic(inRootfs('usr/local/bin/execd'), fs.readFileSync(path.join(ctx.root, execdBinary)), 0o755);
      writeFileAtomic(inRootfs('usr/local/bin/fig'), figScript, 0o755);
      writeFileAtomic(inRootfs('etc/systemd/system/execd.service'), execdUnit(p.port));
      writeFileAtomic(inRootfs('etc/systemd/network/10-host0.network'), host0Network);
      writeFileAtomic(inRootfs('etc/hostname'), `${p.machine}\n`);
      // Offline enable: the [Install] sections' symlinks, as `systemctl enable` makes them.
      await ctx.exec('systemctl', ['--root', p.rootfs, 'enable', 'execd.service', 'systemd-networkd.service']);
      const securetty = inRootfs('etc/securetty');
      if (fs.existsSync(securetty)) writeFileAtomic(securetty, withPtys(fs.readFileSync(securetty, 'utf8')));
      else ctx.log('no /etc/securetty in the rootfs (login no longer reads it): nothing to add');
      const shadow = inRootfs('etc/shadow');
      writeFileAtomic(shadow, setRootPassword(fs.readFileSync(shadow, 'utf8'), p.rootLogin), 0o640);
    },
  });
}
