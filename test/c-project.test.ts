// A small real C project (generated here: shared headers, a header only some objects include)
// built with the real `cc` through the CLI: depfiles make header edits rebuild exactly their
// includers, also past the no-op snapshot; flags rebuild exactly what they change; a header gone
// is fine once nothing includes it and the compiler's own error while something does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import { api, Project, projectMaker, repo } from './helpers/cli-rig.ts';

const project = projectMaker(after);

// The generator a user would write it with: a compile task per .c file (with its depfile), a link.
const taskfile = `
import { cProgram } from ${JSON.stringify(api)};
const sides = param('sides', 4, 'the sides of shape.c\\'s shape');
export default cProgram('app', {
  sources: 'src/*.c',
  objDir: 'obj',
  output: 'app',
  cflags: ['-Iinclude'],
  flagsFor: (file) => (file.base === 'shape.c' ? ['-DSIDES=' + sides] : []),
}).link;
`;

function cProject(): Project {
  const p = project(taskfile);
  p.write('include/common.h', '#define GREETING "hello"\n');
  p.write('include/util.h', '#include "common.h"\nint twice(int x);\n');
  p.write('include/shape.h', '#ifndef SIDES\n#define SIDES 3\n#endif\n#define NAME "shape"\n');
  p.write('src/main.c', '#include <stdio.h>\n#include "util.h"\nint sides(void);\nint main(void) { printf("%s %d %d\\n", GREETING, twice(2), sides()); return 0; }\n');
  p.write('src/util.c', '#include "util.h"\nint twice(int x) { return 2 * x; }\n');
  p.write('src/shape.c', '#include "common.h"\n#include "shape.h"\nint sides(void) { return SIDES; }\n');
  return p;
}

const app = (p: Project) => execFileSync(p.path('app'), { encoding: 'utf8' });

test('clean build, no-op, and a header edit that rebuilds exactly the objects that include it', async () => {
  const p = cProject();
  const first = await p.run();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.deepEqual(Project.ran(first).sort(), ['app', 'app:src:main.o', 'app:src:shape.o', 'app:src:util.o']);
  assert.equal(app(p), 'hello 4 4\n');
  assert.equal(p.exists('obj/src/main.o.d'), false, 'the depfile is read into the store and removed');
  assert.match((await p.run()).stderr, /nothing to do, 4 up to date/);

  // shape.h: only shape.c includes it.
  p.write('include/shape.h', '#ifndef SIDES\n#define SIDES 3\n#endif\n#define NAME "polygon"\n');
  const explain = await p.run('--explain');
  assert.match(explain.stdout, /\] app:src:shape\.o: out of date: discovered input include\/shape\.h changed/m);
  assert.match(explain.stdout, /\] app:src:main\.o: up to date/);
  const edit = await p.run();
  assert.equal(edit.code, 0, edit.stderr);
  assert.deepEqual(Project.ran(edit), ['app:src:shape.o'], 'a change that leaves the object byte-identical stops there');

  // util.h: main.c and util.c include it, shape.c does not.
  p.write('include/util.h', '#include "common.h"\nint twice(int x);\n#define TWICE_H 1\n');
  assert.deepEqual(Project.ran(await p.run()).sort(), ['app:src:main.o', 'app:src:util.o']);
  // common.h: all three (main.c through util.h).
  p.write('include/common.h', '#define GREETING "howdy"\n');
  const all = await p.run();
  assert.deepEqual(Project.ran(all).sort(), ['app', 'app:src:main.o', 'app:src:shape.o', 'app:src:util.o']);
  assert.equal(app(p), 'howdy 4 4\n');
});

test('after a no-op the snapshot answered, a header edit still rebuilds its includers', async () => {
  const p = cProject();
  assert.equal((await p.run()).code, 0);
  await sleep(1100); // a snapshot covers only files a second old
  assert.match((await p.run('-v')).stdout, /^task: snapshot: taken for the next run$/m);
  assert.match((await p.run('-v')).stdout, /^task: snapshot: every task up to date$/m);
  p.write('include/util.h', '#include "common.h"\nint twice(int x);\n/* edited */\n');
  const edit = await p.run('-v');
  assert.match(edit.stdout, /^task: snapshot: not used, include\/util\.h changed$/m);
  assert.deepEqual(Project.ran(edit).sort(), ['app:src:main.o', 'app:src:util.o']);
});

test('a flag change rebuilds exactly the objects whose command it is in', async () => {
  const p = cProject();
  assert.equal((await p.run()).code, 0);
  const result = await p.run('sides=6');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(Project.ran(result), ['app:src:shape.o', 'app']);
  assert.equal(app(p), 'hello 4 6\n');
});

test('a removed header: fine once nothing includes it; the compiler\'s own error while something does', async () => {
  const p = cProject();
  assert.equal((await p.run()).code, 0);
  // shape.c stops including shape.h, which is deleted.
  p.write('src/shape.c', '#include "common.h"\nint sides(void) { return 5; }\n');
  p.write('include/shape.h', '');
  execFileSync('rm', [p.path('include/shape.h')]);
  const fine = await p.run();
  assert.equal(fine.code, 0, fine.stdout + fine.stderr);
  assert.deepEqual(Project.ran(fine), ['app:src:shape.o', 'app']);
  assert.equal(app(p), 'hello 4 5\n');
  assert.match((await p.run()).stderr, /nothing to do/);

  // util.h is still included by main.c and util.c.
  execFileSync('rm', [p.path('include/util.h')]);
  const broken = await p.run('-k');
  assert.equal(broken.code, 1);
  assert.match(broken.stdout + broken.stderr, /util\.h: No such file or directory/);
  assert.match(broken.stdout + broken.stderr, /app:src:(main|util)\.o/);
  const explain = await p.run('--explain');
  assert.match(explain.stdout, /\] app:src:main\.o: out of date: no record/, 'the failed compile left no record');
});

test('-n prints the compile and link commands and runs nothing', async () => {
  const p = cProject();
  const result = await p.run('-n');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^cc -Iinclude -DSIDES=4 -MMD -MF obj\/src\/shape\.o\.d -c src\/shape\.c -o obj\/src\/shape\.o$/m);
  assert.match(result.stdout, /^cc -o app obj\/src\/main\.o obj\/src\/shape\.o obj\/src\/util\.o$/m);
  assert.equal(p.exists('obj'), false);
});

test('examples/c-project builds with cProgram and its program works', async () => {
  const p = project('');
  const example = `${repo}/examples/c-project`;
  for (const file of ['src/main.c', 'src/count.c', 'src/format.c', 'include/common.h', 'include/count.h', 'include/format.h']) {
    p.write(file, fs.readFileSync(`${example}/${file}`, 'utf8'));
  }
  p.write('Taskfile.ts', fs.readFileSync(`${example}/Taskfile.ts`, 'utf8').replace("'../../src/index.ts'", JSON.stringify(api)));
  const result = await p.run();
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(Project.ran(result).sort(), ['wordcount', 'wordcount:src:count.o', 'wordcount:src:format.o', 'wordcount:src:main.o']);
  assert.equal(execFileSync(p.path('build/wordcount'), { input: 'a b\nc\n', encoding: 'utf8' }), '2 3 6\n');
});

test('a flag held in a variable outside run: through command or values it rebuilds; closed over, its next run names the changed line', async () => {
  const objects = (flag: string) => `
const cflags = [${JSON.stringify(flag)}];
task('by-command', { inputs: ['src/util.c'], outputs: ['obj/c.o'], command: ['cc', ...cflags, '-Iinclude', '-c', 'src/util.c', '-o', 'obj/c.o'] });
task('by-values', { inputs: ['src/util.c'], outputs: ['obj/v.o'], values: { cflags },
  run: (ctx) => ctx.exec('cc', [...(ctx.values.cflags as string[]), '-Iinclude', '-c', 'src/util.c', '-o', 'obj/v.o']) });
task('closed-over', { inputs: ['src/util.c'], outputs: ['obj/x.o'],
  run: (ctx) => ctx.exec('cc', [...cflags, '-Iinclude', '-c', 'src/util.c', '-o', 'obj/x.o']) });
export default task('all', { deps: ['by-command', 'by-values', 'closed-over'] });
`;
  const p = cProject();
  p.write('Taskfile.ts', `import { task } from ${JSON.stringify(api)};\n${objects('-O0')}`);
  assert.equal((await p.run()).code, 0);
  p.write('Taskfile.ts', `import { task } from ${JSON.stringify(api)};\n${objects('-O1')}`);
  const changed = await p.run();
  assert.equal(changed.code, 0, changed.stderr);
  assert.deepEqual(Project.ran(changed).sort(), ['by-command', 'by-values'], 'what a run closes over is not tracked (README)');
  const forced = await p.run('-f', 'closed-over');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(
    forced.stdout + forced.stderr,
    /task 'closed-over': its run started `cc -O1 -Iinclude -c src\/util\.c -o obj\/x\.o` where its last run started `cc -O0 -Iinclude -c src\/util\.c -o obj\/x\.o`, though nothing it declares changed/,
  );
});
