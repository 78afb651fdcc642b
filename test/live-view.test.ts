// The live display's rows as text (src/report/live-view.ts), at chosen times and terminal sizes:
// what a narrow or short terminal gets, and what a line redrawn with \r shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paint } from '../src/report/display.ts';
import { formatDuration } from '../src/base/format.ts';
import { LiveView, formatElapsed, latestSegment } from '../src/report/live-view.ts';

const plain = paint(false);

test('a line redrawn with \\r shows its last non-empty segment, without escape sequences', () => {
  assert.equal(latestSegment('fetch 10%\rfetch 50%\rfetch 90%'), 'fetch 90%');
  assert.equal(latestSegment('\r0% [Working]'), '0% [Working]');
  assert.equal(latestSegment('Progress 70%\r'), 'Progress 70%');
  assert.equal(latestSegment('\x1b[32mok\x1b[0m\x1b[2K\tdone'), 'ok done');
  assert.equal(latestSegment('\r\r'), '');
});

test('rows: the count, then each running task oldest first with its time and latest line; a settled task goes', () => {
  const view = new LiveView();
  view.plan(5);
  view.start('fetch', 0);
  view.start('build-a-long-name', 1_000);
  view.output('fetch', 'Get:1 http://example 50%');
  view.output('fetch', '');
  assert.deepEqual(view.frame(65_000, 80, 24, plain), [
    '[0/5] 2 running',
    `  ${'fetch'.padEnd(17)} 1m05s  Get:1 http://example 50%`,
    '  build-a-long-name 1m04s',
  ]);
  view.settle('fetch');
  assert.deepEqual(view.frame(65_000, 80, 24, plain), ['[1/5] 1 running', '  build-a-long-name 1m04s']);
  view.settle('build-a-long-name');
  assert.deepEqual(view.frame(65_000, 80, 24, plain), ['[2/5]']);
  assert.equal(formatElapsed(59_999), '59s');
});

test('a narrow or short terminal: no row wider than the terminal less one column, no more rows than fit', () => {
  const view = new LiveView();
  view.plan(40);
  for (let i = 0; i < 30; i++) {
    view.start(`task-with-a-rather-long-name-${i}`, 0);
    view.output(`task-with-a-rather-long-name-${i}`, 'x'.repeat(200));
  }
  for (const [columns, rows] of [[20, 24], [80, 10], [200, 5], [21, 3]] as const) {
    const frame = view.frame(3_000, columns, rows, plain);
    assert.ok(frame.length <= rows - 1, `${columns}x${rows}: ${frame.length} lines`);
    for (const line of frame) assert.ok([...line].length <= columns - 1, `${columns}x${rows}: ${JSON.stringify(line)}`);
    assert.match(frame.at(-1)!, /… and \d+ more/);
  }
});

test('lines for above the rows are taken once, in order', () => {
  const view = new LiveView();
  view.print('first');
  view.print('second', true);
  assert.deepEqual(view.takeAbove(), [{ text: 'first', toStderr: false }, { text: 'second', toStderr: true }]);
  assert.deepEqual(view.takeAbove(), []);
});

test('durations in whole minutes round the seconds first: never 2m60s', () => {
  assert.equal(formatDuration(179_600), '3m00s');
  assert.equal(formatDuration(179_400), '2m59s');
  assert.equal(formatDuration(65_000), '1m05s');
  assert.equal(formatDuration(3_599_700), '60m00s');
});
