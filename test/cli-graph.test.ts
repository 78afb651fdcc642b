// --graph=svg and --graph=png: the graph laid out by Graphviz compiled to WebAssembly, each task
// drawn as the dry run decides it. Through the real CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { bin, projectMaker } from './helpers/cli-rig.ts';
import { parseXml, type XmlElement } from './helpers/xml.ts';

const project = projectMaker(after);

const taskfile = `
const a = task('a', { inputs: ['a.txt'], outputs: ['out/a'], command: ['cp', 'a.txt', 'out/a'] });
const b = task('b', { inputs: ['b.txt'], outputs: ['out/b'], command: ['cp', 'b.txt', 'out/b'] });
const c = task('c', { deps: [a, b], outputs: ['out/c'], command: ['sh', '-c', 'cat out/a out/b > out/c'] });
task('unrelated', { run: async () => {} });
export default task('all', { deps: [c] });
`;

/** A project where `a` is built (up to date), and `b` and `c` never were (stale). */
async function halfBuilt() {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  p.write('b.txt', 'b\n');
  const built = await p.run('a');
  assert.equal(built.code, 0, built.stderr);
  return p;
}

/** Graphviz draws a node as <g class="node"><title>NAME</title>...<polygon fill=...>. */
function nodesOf(elements: XmlElement[]): Map<string, { fill: string; tooltip: string }> {
  const nodes = new Map<string, { fill: string; tooltip: string }>();
  for (const group of elements.filter((e) => e.name === 'g' && e.attributes.get('class') === 'node')) {
    const inside = elements.filter((e) => { for (let p = e.parent; p; p = p.parent) if (p === group) return true; return false; });
    const title = inside.find((e) => e.name === 'title')!.text;
    const shape = inside.find((e) => e.name === 'polygon')!;
    const link = inside.find((e) => e.name === 'a');
    nodes.set(title, { fill: shape.attributes.get('fill')!, tooltip: link?.attributes.get('xlink:title') ?? '' });
  }
  return nodes;
}

test('--graph=svg draws one node per task of the closure, stale and up-to-date ones filled differently', async () => {
  const p = await halfBuilt();
  const result = await p.run('--graph=svg');
  assert.equal(result.code, 0, result.stderr);
  const elements = parseXml(result.stdout);
  assert.equal(elements[0]!.name, 'svg');
  const nodes = nodesOf(elements);
  assert.deepEqual([...nodes.keys()].sort(), ['a', 'all', 'b', 'c']);
  const edges = elements.filter((e) => e.name === 'g' && e.attributes.get('class') === 'edge');
  assert.equal(edges.length, 3);
  // a was built; b and c would run, as -n says.
  assert.equal(nodes.get('b')!.fill, nodes.get('c')!.fill);
  assert.notEqual(nodes.get('a')!.fill, nodes.get('b')!.fill);
  assert.equal(nodes.get('a')!.tooltip, 'up to date');
  assert.match(nodes.get('b')!.tooltip, /^would run: no record of a previous successful run/);
  const dryRun = await p.run('-n');
  assert.deepEqual([...dryRun.stdout.matchAll(/^would run ([^\s:]+)/gm)].map((m) => m[1]).sort(), ['b', 'c']);

  // Built, then an input edited: a is stale now and b is up to date.
  assert.equal((await p.run()).code, 0);
  p.write('a.txt', 'a, edited\n');
  const after = nodesOf(parseXml((await p.run('--graph=svg', 'c')).stdout));
  assert.deepEqual([...after.keys()].sort(), ['a', 'b', 'c']);
  assert.equal(after.get('a')!.fill, nodes.get('b')!.fill);
  assert.equal(after.get('b')!.fill, nodes.get('a')!.fill);
  assert.match(after.get('a')!.tooltip, /a\.txt/);
  // Deciding is all it did: nothing ran, nothing was recorded.
  assert.equal(p.read('out/a'), 'a\n');
  assert.equal(nodesOf(parseXml((await p.run('--graph=svg', 'c')).stdout)).get('a')!.fill, after.get('a')!.fill);
});

test('--graph (DOT) carries the same decisions as attributes', async () => {
  const p = await halfBuilt();
  const result = await p.run('--graph', 'c');
  assert.equal(result.code, 0, result.stderr);
  const line = (name: string) => result.stdout.split('\n').find((l) => l.startsWith(`  "${name}" [`)) ?? '';
  assert.match(line('a'), /tooltip="up to date"/);
  assert.match(line('b'), /tooltip="would run: /);
  assert.notEqual(line('a').replace(/tooltip=.*/, ''), line('b').replace(/tooltip=.*/, ''));
});

test('--graph=png writes a PNG where @resvg/resvg-js is installed, and says what it needs where not', async () => {
  const p = await halfBuilt();
  let installed = true;
  try {
    createRequire(import.meta.url).resolve('@resvg/resvg-js');
  } catch {
    installed = false;
  }
  // Run without the rig's text decoding: stdout is binary.
  const env = { ...process.env, CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: p.cacheDir, TASK_CACHE_URL: '' };
  const run = spawnSync(process.execPath, [bin, '--graph=png'], { cwd: p.dir, env });
  const result = { code: run.status, stderr: run.stderr.toString('utf8') };
  const png = run.stdout;
  if (installed) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
    assert.ok(png.length > 1000, `a PNG of ${png.length} bytes`);
  } else {
    assert.equal(result.code, 2);
    assert.equal(png.length, 0);
    assert.equal(result.stderr.trim().split('\n').at(-1), 'task: --graph=png needs the optional package @resvg/resvg-js (npm install @resvg/resvg-js); --graph=svg needs nothing more');
  }
});

test('--graph with an unknown format is a usage error', async () => {
  const result = await project(taskfile).run('--graph=pdf');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^task: option --graph: 'pdf' is not one of dot, svg, png$/m);
  assert.equal(result.stdout, '');
});
