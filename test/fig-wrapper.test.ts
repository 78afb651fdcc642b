// The `fig` wrapper the chroot task installs (tasks/lib/chroot-files.ts), run with /bin/sh against a
// temporary font folder (FIG_DIR, FIG_ALTDIR). A stub figlet first PATH records how it is called;
// where Debian's figlet is installed, the last test renders real banners through the wrapper.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { figScript } from '../tasks/lib/chroot-files.ts';

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'fig-wrapper-'));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

const script = path.join(temp, 'fig');
fs.writeFileSync(script, figScript, { mode: 0o755 });

// The stub prints its arguments, its working folder and its standard input, then exits 0.
const stubBin = path.join(temp, 'bin');
fs.mkdirSync(stubBin);
fs.writeFileSync(path.join(stubBin, 'figlet'), '#!/bin/sh\necho "figlet $* (in $PWD)"\ncat\n', { mode: 0o755 });

/** A font folder laid out as the chroot task makes it: official and contrib subfolders. */
const fonts = path.join(temp, 'usr-local-share-figlet');
for (const [folder, names] of [['official', ['standard.flf', 'slant.flf', 'utf8.flc']], ['contrib', ['banner3.flf']]] as const) {
  fs.mkdirSync(path.join(fonts, folder), { recursive: true });
  for (const name of names) fs.writeFileSync(path.join(fonts, folder, name), 'flf2a$ 1 1 1 0 0\n');
}
fs.writeFileSync(path.join(fonts, 'README'), 'a file beside the folders is not a folder\n');
const debianFonts = path.join(temp, 'usr-share-figlet');
fs.mkdirSync(path.join(debianFonts, 'distro'), { recursive: true });
fs.writeFileSync(path.join(debianFonts, 'distro', 'mini.flf'), 'flf2a$ 1 1 1 0 0\n');
// What an escaping request would reach: a font file beside the font folder.
fs.writeFileSync(path.join(temp, 'outside.flf'), 'flf2a$ 1 1 1 0 0\n');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function fig(args: string[], options: { input?: string; dir?: string; altdir?: string; figlet?: 'stub' | 'real'; cwd?: string } = {}): Run {
  const env: Record<string, string> = {
    PATH: options.figlet === 'real' ? (process.env.PATH ?? '') : `${stubBin}:${process.env.PATH ?? ''}`,
    FIG_DIR: options.dir ?? fonts,
    FIG_ALTDIR: options.altdir ?? debianFonts,
  };
  const result = spawnSync('/bin/sh', [script, ...args], { input: options.input ?? '', env, encoding: 'utf8', cwd: options.cwd ?? temp });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const usage = [
  `usage: ${script} <dir> <font>  -> exec figlet on font 'font' in subdir 'dir', reading text from stdin`,
  `       ${script} ls [dir]      -> list subdirs or with a subdir as an argument, the fonts in that subdir`,
  `       ${script} default       -> print the default font`,
  '',
].join('\n');

test("fig keeps upstream's usage message and exit 1 for a wrong number of arguments", () => {
  for (const args of [[], ['official'], ['official', ''], ['a', 'b', 'c'], ['ls', 'official', 'x']]) {
    const run = fig(args);
    assert.equal(run.code, 1, args.join(' '));
    assert.equal(run.stderr, usage, args.join(' '));
    assert.equal(run.stdout, '', args.join(' '));
  }
});

test('fig DIR FONT runs figlet on that font of that subfolder, the text on stdin, in the font folder', () => {
  const run = fig(['official', 'slant'], { input: 'hi\n' });
  assert.equal(run.code, 0, run.stderr);
  const folder = path.join(fonts, 'official');
  assert.equal(run.stdout, `figlet -d ${folder} -f slant (in ${fs.realpathSync(folder)})\nhi\n`);
  assert.equal(fig(['contrib', 'banner3']).stdout.split('\n')[0], `figlet -d ${path.join(fonts, 'contrib')} -f banner3 (in ${fs.realpathSync(path.join(fonts, 'contrib'))})`);
});

test('fig ls lists the subfolders; fig ls DIR the fonts in one (.flf only); fig default asks figlet -I3', () => {
  assert.deepEqual(fig(['ls']), { code: 0, stdout: 'contrib\nofficial\n', stderr: '' });
  assert.deepEqual(fig(['ls', 'official']), { code: 0, stdout: 'slant\nstandard\n', stderr: '' });
  assert.deepEqual(fig(['ls', 'contrib']), { code: 0, stdout: 'banner3\n', stderr: '' });
  fs.mkdirSync(path.join(fonts, 'empty'));
  try {
    assert.deepEqual(fig(['ls', 'empty']), { code: 0, stdout: '', stderr: '' }, 'an empty folder lists nothing (upstream printed "*")');
  } finally {
    fs.rmdirSync(path.join(fonts, 'empty'));
  }
  assert.deepEqual(fig(['ls', 'nosuch']), { code: 1, stdout: '', stderr: `fig: no font folder 'nosuch' in ${fonts}\n` });
  assert.deepEqual(fig(['nosuch', 'slant']), { code: 1, stdout: '', stderr: `fig: no font folder 'nosuch' in ${fonts}\n` });
  assert.deepEqual(fig(['default']), { code: 0, stdout: `figlet -I3 (in ${fs.realpathSync(temp)})\n`, stderr: '' });
});

test('a folder or font name holding / or .. is refused with exit 1 before figlet runs', () => {
  const cases: Array<[string[], string]> = [
    [['..', 'outside'], "fig: invalid folder name '..': it must be a single name, without '/' or '..'"],
    [['official', '../../outside'], "fig: invalid font name '../../outside': it must be a single name, without '/' or '..'"],
    [['official', '/etc/passwd'], "fig: invalid font name '/etc/passwd': it must be a single name, without '/' or '..'"],
    [['/', 'outside'], "fig: invalid folder name '/': it must be a single name, without '/' or '..'"],
    [['official/..', 'slant'], "fig: invalid folder name 'official/..': it must be a single name, without '/' or '..'"],
    [['', 'slant'], "fig: invalid folder name '': it must be a single name, without '/' or '..'"],
    [['official', '..'], "fig: invalid font name '..': it must be a single name, without '/' or '..'"],
    [['ls', '..'], "fig: invalid folder name '..': it must be a single name, without '/' or '..'"],
    [['ls', '../..'], "fig: invalid folder name '../..': it must be a single name, without '/' or '..'"],
    [['ls', '/etc'], "fig: invalid folder name '/etc': it must be a single name, without '/' or '..'"],
  ];
  for (const [args, message] of cases) {
    const run = fig(args);
    assert.deepEqual(run, { code: 1, stdout: '', stderr: `${message}\n` }, JSON.stringify(args));
  }
});

test("without /usr/local/share/figlet, Debian's folder takes its place; without either, exit 2 as upstream", () => {
  const missing = path.join(temp, 'no-such-folder');
  assert.deepEqual(fig(['ls'], { dir: missing }), { code: 0, stdout: 'distro\n', stderr: '' });
  assert.deepEqual(fig(['ls', 'distro'], { dir: missing }), { code: 0, stdout: 'mini\n', stderr: '' });
  assert.match(fig(['distro', 'mini'], { dir: missing }).stdout, new RegExp(`^figlet -d ${path.join(debianFonts, 'distro')} -f mini `));
  assert.deepEqual(fig(['official', 'slant'], { dir: missing, altdir: missing }), {
    code: 2,
    stdout: '',
    stderr: `couldn't find the font directory. tried ${missing} and ${missing}.\n`,
  });
});

const realFiglet = spawnSync('sh', ['-c', 'command -v figlet']).status === 0 && fs.existsSync('/usr/share/figlet/slant.flf');

test("with Debian's figlet: fig official slant prints figlet's slant banner; a font missing from the folder is not looked for elsewhere", { skip: realFiglet ? false : 'needs figlet (apt-get install figlet; .ci/run does)' }, () => {
  const official = path.join(temp, 'real', 'official');
  fs.mkdirSync(official, { recursive: true });
  for (const name of ['slant.flf', 'standard.flf']) fs.copyFileSync(path.join('/usr/share/figlet', name), path.join(official, name));
  const expected = spawnSync('figlet', ['-f', 'slant'], { input: 'hi\n', encoding: 'utf8' }).stdout;
  const run = fig(['official', 'slant'], { input: 'hi\n', dir: path.join(temp, 'real'), figlet: 'real' });
  assert.deepEqual(run, { code: 0, stdout: expected, stderr: '' });
  assert.ok(expected.includes('/'), 'a slanted banner');
  assert.deepEqual(fig(['default'], { dir: path.join(temp, 'real'), figlet: 'real' }), { code: 0, stdout: 'standard\n', stderr: '' });
  // figlet tries its working folder after -d's: the wrapper runs it in the font folder, so a
  // font file in the caller's folder (here a real font as outside.flf in temp) is not found.
  fs.copyFileSync('/usr/share/figlet/mini.flf', path.join(temp, 'outside.flf'));
  const escaped = fig(['official', 'outside'], { input: 'hi\n', dir: path.join(temp, 'real'), figlet: 'real', cwd: temp });
  assert.notEqual(escaped.code, 0);
  assert.equal(escaped.stdout, '');
  assert.match(escaped.stderr, /outside: Unable to open font file/);
});
