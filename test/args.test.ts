import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs } from '../src/cli/args.ts';

test('options, targets and overrides are told apart', () => {
  const args = parseArgs(['-nk', '-j', '3', 'hosts', 'suite=trixie', '--taskfile=x/Taskfile.ts', '-Cdir', 'smoke']);
  assert.equal(args.dryRun, true);
  assert.equal(args.keepGoing, true);
  assert.equal(args.jobs, 3);
  assert.deepEqual(args.targets, ['hosts', 'smoke']);
  assert.deepEqual([...args.overrides], [['suite', 'trixie']]);
  assert.equal(args.taskfile, 'x/Taskfile.ts');
  assert.equal(args.directory, 'dir');
  assert.equal(parseArgs(['--jobs=5']).jobs, 5);
  assert.deepEqual([...parseArgs(['machine=a=b']).overrides], [['machine', 'a=b']]);
});

test('bad options are usage errors with a suggestion', () => {
  assert.throws(() => parseArgs(['--dryrun']), /unknown option --dryrun \(did you mean '--dry-run'\?\)/);
  assert.throws(() => parseArgs(['-j', '-1']), /option -j: '-1' is not a whole number \(0 means no limit\)/);
  assert.throws(() => parseArgs(['-j', '2.5']), /option -j: '2.5' is not a whole number/);
  assert.throws(() => parseArgs(['-j', '0x4']), /option -j: '0x4' is not a whole number/);
  assert.equal(parseArgs(['-j0']).jobs, Infinity, '-j0: no limit, as in ninja');
  assert.throws(() => parseArgs(['-j']), /option -j needs a value/);
});

test('--graph takes its format after = only; --watch refuses the modes that build nothing', () => {
  assert.equal(parseArgs(['--graph']).graphFormat, 'dot');
  const svg = parseArgs(['--graph=svg', 'chroot']);
  assert.equal(svg.graph, true);
  assert.equal(svg.graphFormat, 'svg');
  assert.deepEqual(svg.targets, ['chroot']);
  assert.deepEqual(parseArgs(['--graph', 'svg']).targets, ['svg']);
  assert.throws(() => parseArgs(['--graph=pdf']), /option --graph: 'pdf' is not one of dot, svg, png/);
  assert.equal(parseArgs(['--watch', '-k', '-j2', 'all']).watch, true);
  assert.equal(parseArgs(['--watch', '--json']).json, true);
  assert.throws(() => parseArgs(['--watch', '-nk']), /--watch cannot be combined with -n: it builds nothing/);
  assert.throws(() => parseArgs(['--watch', '--completion', 'bash']), /--watch cannot be combined with --completion/);
  assert.throws(() => parseArgs(['--clean', '--watch']), /--watch cannot be combined with --clean: it removes what --watch would build/);
});

test('a value option may end a group of short flags, as getopt reads them; two modes at once are refused', () => {
  for (const argv of [['-kj2'], ['-kj', '2']]) {
    const args = parseArgs(argv);
    assert.equal(args.keepGoing, true);
    assert.equal(args.jobs, 2);
  }
  const inDir = parseArgs(['-nvCsub', 'all']);
  assert.deepEqual([inDir.dryRun, inDir.verbose, inDir.directory, inDir.targets], [true, true, 'sub', ['all']]);
  assert.throws(() => parseArgs(['-kj']), /^Error: option -j needs a value$/);
  assert.throws(() => parseArgs(['-l', '--graph']), /-l cannot be combined with --graph: each is a run of its own/);
  assert.throws(() => parseArgs(['-q', '--explain']), /--explain cannot be combined with -q/);
  assert.throws(() => parseArgs(['--compdb', '--graph']), /--graph cannot be combined with --compdb/);
});
