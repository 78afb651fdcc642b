// Pools through the real CLI: a pool of depth 1 keeps its commands from overlapping under -j4,
// and a bad pool is a one-line Taskfile error (exit 2).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { api, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);
const header = `import { pool } from ${JSON.stringify(api)};\n`;

test('under -j4, the commands of a depth-1 pool never overlap, and other tasks run beside them', async () => {
  // Each command appends "start NAME" and "end NAME" to one file around a short sleep; the pool
  // is proven by the order of those lines, not by timing.
  const p = project(`${header}
const link = pool('link', 1);
const step = (name: string) => ['sh', '-c', \`echo "start \${name}" >> events; sleep 0.2; echo "end \${name}" >> events\`];
const links = ['l1', 'l2', 'l3', 'l4'].map((name) => task(name, { pool: link, always: true, command: step(name) }));
const others = ['c1', 'c2', 'c3'].map((name) => task(name, { always: true, command: step(name) }));
export default task('all', { deps: [...links, ...others] });
`);
  const run = await p.run('-j4');
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const events = p.read('events').trim().split('\n');
  assert.equal(events.length, 14, events.join(', '));
  let linking = 0;
  let running = 0;
  let mostRunning = 0;
  for (const event of events) {
    const [kind, name] = event.split(' ');
    const delta = kind === 'start' ? 1 : -1;
    running += delta;
    mostRunning = Math.max(mostRunning, running);
    if (name!.startsWith('l')) {
      linking += delta;
      assert.ok(linking <= 1, `two links at once: ${events.join(', ')}`);
    }
  }
  assert.ok(mostRunning >= 2, `the other tasks ran beside the links: ${events.join(', ')}`);
});

test('a bad pool is one line naming it, exit 2', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`task('x', { pool: pool('link', 0), run: () => {} });`, /pool "link" \(at .*Taskfile\.ts:\d+\): depth must be a whole number of at least 1, not 0/],
    [`task('x', { pool: 'link' as never, run: () => {} });`, /task 'x': pool must be 'console' or a pool made by pool\(name, depth\)/],
    [`task('x', { pool: { name: 'link', depth: 1 } as never, run: () => {} });`, /task 'x': pool must be 'console' or a pool made by pool\(name, depth\)/],
    [`task('x', { pool: pool('link', 1), run: () => {} });\ntask('y', { pool: pool('link', 3), run: () => {} });`, /pool 'link' is declared with depth 1 \(task 'x'\) and depth 3 \(task 'y'\)/],
  ];
  for (const [taskfile, message] of cases) {
    await t.test(taskfile, async () => {
      const run = await project(`${header}${taskfile}`).run('x');
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    });
  }
});
