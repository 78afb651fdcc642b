// The remote cache's round trips go on in the background. Uploads: a task's dependents start as
// soon as its outputs are in place and recorded, not after its upload; the build waits for what
// is still being sent at its end (and says so); a server that refuses or fails PUTs costs one
// warning; Ctrl-C during the uploads exits 130 and leaves the server no result whose blobs are
// not there. Lookups: the tasks waiting for a slot are looked up while others run.
// The server is a small HTTP store of Bazel's cache protocol in this process, so that it can
// hold back its answers and say when it answered.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { finished, Project, projectMaker } from './helpers/cli-rig.ts';

const project = projectMaker(after);

interface Store {
  url: string;
  entries: Map<string, Buffer>;
  /** When each PUT was answered (Date.now()), by path. */
  putAnswered: Map<string, number>;
  /** PUTs received, answered or not. */
  putsReceived: string[];
  /** Results PUT while a blob they name was not stored yet: must stay empty. */
  earlyResults: string[];
  /** The most GETs of results the server held at one time. */
  mostResultGets: number;
}

/** An in-memory cache server; `putDelayMs` holds back the answer to every blob PUT (stored once its body is in), `putStatus` answers every PUT with that status instead. */
async function store(options: { putDelayMs?: number; putStatus?: number; resultGetDelayMs?: number } = {}): Promise<Store> {
  const s: Store = { url: '', entries: new Map(), putAnswered: new Map(), putsReceived: [], earlyResults: [], mostResultGets: 0 };
  let resultGets = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.url!;
      if (req.method === 'PUT') {
        s.putsReceived.push(key);
        if (options.putStatus) {
          res.writeHead(options.putStatus).end();
          return;
        }
        const body = Buffer.concat(chunks);
        if (key.startsWith('/ac/')) {
          const result = JSON.parse(body.toString()) as { outputs: Array<{ digest: string }> };
          if (result.outputs.some((o) => !s.entries.has(`/cas/${o.digest}`))) s.earlyResults.push(key);
        }
        const answer = () => {
          s.entries.set(key, body);
          res.writeHead(201).end(() => s.putAnswered.set(key, Date.now()));
        };
        if (key.startsWith('/cas/') && options.putDelayMs) setTimeout(answer, options.putDelayMs).unref();
        else answer();
        return;
      }
      const answer = () => {
        const found = s.entries.get(key);
        if (!found) res.writeHead(404).end();
        else res.writeHead(200, { 'content-length': found.length }).end(req.method === 'HEAD' ? undefined : found);
      };
      if (req.method !== 'GET' || !key.startsWith('/ac/') || !options.resultGetDelayMs) return answer();
      s.mostResultGets = Math.max(s.mostResultGets, ++resultGets);
      setTimeout(() => {
        resultGets--;
        answer();
      }, options.resultGetDelayMs).unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}

test("a task's dependent starts before the task's upload is answered; the build waits for it at its end and says so", async () => {
  const server = await store({ putDelayMs: 3000 });
  const p = project(`
const a = task('a', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });
export default task('b', { deps: [a], inputs: ['a.txt'], outputs: ['b.txt'], command: ['sh', '-c', 'date +%s%3N > b-start.txt; cat a.txt a.txt > b.txt'] });
`);
  p.env = { TASK_CACHE_URL: server.url };
  const result = await p.run();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['a', 'b']);
  const bStarted = Number(p.read('b-start.txt'));
  const blobOfA = [...server.putAnswered].find(([key]) => key.startsWith('/cas/') && server.entries.get(key)?.toString() === 'a\n');
  assert.ok(blobOfA, `a's output was uploaded: ${[...server.putAnswered.keys()].join(' ')}`);
  assert.ok(bStarted < blobOfA[1], `b started at ${bStarted}, before the upload of a's output was answered at ${blobOfA[1]}`);
  // The build waited: both results are on the server once it has exited, each after its blobs.
  assert.equal([...server.entries.keys()].filter((key) => key.startsWith('/ac/')).length, 2);
  assert.deepEqual(server.earlyResults, []);
  assert.match(result.stderr, /^task: waiting for [12] uploads? to the remote cache http:\/\/127\.0\.0\.1:\d+$/m);

  // What it sent is whole: a fresh copy restores both from it, running nothing.
  const q = project(p.read('Taskfile.ts').split('\n').slice(1).join('\n'));
  q.env = { TASK_CACHE_URL: server.url };
  const second = await q.run();
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(Project.ran(second), []);
  assert.match(second.stderr, /^task: cache: 0 local hits, 2 remote hits/m);
  assert.equal(q.read('b.txt'), 'a\na\n');
});

for (const status of [500, 403]) {
  test(`a server answering every PUT with HTTP ${status} costs one warning, however many uploads were under way`, async () => {
    const server = await store({ putStatus: status });
    const p = project(`
const parts = [1, 2, 3, 4, 5, 6].map((i) => task('part' + i, { outputs: ['p' + i + '.txt'], command: ['sh', '-c', 'echo ' + i + ' > p' + i + '.txt'] }));
export default task('all', { deps: parts, inputs: parts.map((t, i) => 'p' + (i + 1) + '.txt'), outputs: ['all.txt'], command: ['sh', '-c', 'cat p*.txt > all.txt'] });
`);
    p.env = { TASK_CACHE_URL: server.url };
    const result = await p.run('-j', '6');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(Project.ran(result).length, 7);
    assert.ok(server.putsReceived.length > 0, 'uploads were tried');
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('task: warning'));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0]!, status === 500 ? /cannot be used \(HTTP 500 for PUT cas…\)/ : /refuses writes \(HTTP 403 for PUT cas…\)/);
    assert.equal(p.read('all.txt'), '1\n2\n3\n4\n5\n6\n');
  });
}

test('Ctrl-C while uploads are pending exits 130 and leaves no result on the server', async () => {
  const server = await store({ putDelayMs: 60_000 });
  const p = project(`export default task('a', { outputs: ['a.txt'], command: ['sh', '-c', 'echo a > a.txt'] });`);
  p.env = { TASK_CACHE_URL: server.url };
  const child = p.spawn([]);
  const done = finished(child);
  const until = Date.now() + 20_000;
  while (server.putsReceived.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(server.putsReceived.length > 0, 'the upload started');
  const interruptedAt = Date.now();
  child.kill('SIGINT');
  const result = await done;
  assert.equal(result.code, 130, result.stderr);
  assert.ok(Date.now() - interruptedAt < 10_000, 'it did not wait for the held-back answer');
  assert.deepEqual([...server.entries.keys()].filter((key) => key.startsWith('/ac/')), [], 'no task result on the server');
  assert.ok(!server.putsReceived.some((key) => key.startsWith('/ac/')), 'no task result was even sent');
  assert.equal(p.read('a.txt'), 'a\n');
});

test('with -j 1, the tasks waiting for the slot are looked up in the remote cache while another runs', async () => {
  const server = await store({ resultGetDelayMs: 300 });
  const taskfile = `
const parts = [1, 2, 3, 4, 5, 6].map((i) => task('part' + i, { outputs: ['p' + i + '.txt'], command: ['sh', '-c', 'echo ' + i + ' > p' + i + '.txt'] }));
export default task('all', { deps: parts, inputs: parts.map((t, i) => 'p' + (i + 1) + '.txt'), outputs: ['all.txt'], command: ['sh', '-c', 'cat p*.txt > all.txt'] });
`;
  const p = project(taskfile);
  p.env = { TASK_CACHE_URL: server.url };
  const cold = await p.run('-j', '1');
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(Project.ran(cold).length, 7);
  assert.ok(server.mostResultGets > 1, `the six parts were looked up together (at most ${server.mostResultGets} at once)`);

  // From the remote alone: every task restored, the same bytes.
  const q = project(taskfile);
  q.env = { TASK_CACHE_URL: server.url };
  const warm = await q.run('-j', '1');
  assert.equal(warm.code, 0, warm.stderr);
  assert.deepEqual(Project.ran(warm), []);
  assert.match(warm.stderr, /^task: cache: 0 local hits, 7 remote hits, 0 misses/m);
  assert.equal(q.read('all.txt'), '1\n2\n3\n4\n5\n6\n');
});
