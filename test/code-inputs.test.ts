// codeInputs: a task's module and the local modules it imports are its inputs, without hand lists.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { codeInputs, noteSourceRead, relativeSpecifiers } from '../src/taskfile/code-inputs.ts';
import { loadTaskfile } from '../src/taskfile/load.ts';
import { TaskfileModules } from '../src/taskfile/reload.ts';

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'code-inputs-'));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

function write(file: string, text: string): string {
  const full = path.join(temp, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, text);
  return full;
}

test('the module, what it imports and what those import; nothing outside its folder, in node_modules or type-only', () => {
  write('src/index.ts', `export const engine = 1;\n`);
  write('tasks/node_modules/lib/index.ts', `export const lib = 1;\n`);
  write('tasks/types.ts', `export interface T { a: number }\n`);
  write('tasks/shapes.ts', `export type S = string;\n`);
  write('tasks/lib/deep.ts', `export const deep = 1;\n`);
  write('tasks/helper.ts', `import { deep } from './lib/deep.ts';\nexport { deep };\n`);
  write('tasks/again.ts', `import { deep } from './lib/deep.ts';\nimport { step } from './step.ts'; // a cycle\nexport const again = deep;\n`);
  write('tasks/lazy.ts', `export const lazy = 1;\n`);
  const step = write(
    'tasks/step.ts',
    [
      `import fs from 'node:fs';`,
      `import { engine } from '../src/index.ts';`,
      `import { lib } from './node_modules/lib/index.ts';`,
      `import type { T } from './types.ts';`,
      `import { type S } from './shapes.ts';`,
      `import {`,
      `  deep,`,
      `} from './helper.ts';`,
      `export * from './again.ts';`,
      `// import { nothing } from './missing.ts';`,
      `export const step = async () => (await import('./lazy.ts')).lazy + deep + engine + lib;`,
      '',
    ].join('\n'),
  );
  assert.deepEqual(codeInputs(pathToFileURL(step).href, temp), [
    'tasks/step.ts',
    'tasks/again.ts',
    'tasks/helper.ts',
    'tasks/lazy.ts',
    'tasks/lib/deep.ts',
  ]);
});

test('an edit that adds an import is seen by the next call', () => {
  const a = write('edit/a.ts', `export const a = 1;\n`);
  write('edit/b.ts', `export const b = 1;\n`);
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['edit/a.ts']);
  fs.writeFileSync(a, `import { b } from './b.ts';\nexport const a = b + 10;\n`);
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['edit/a.ts', 'edit/b.ts']);
});

test('a --watch reload reads the module graph again, even after an edit that kept the size and the mtime', () => {
  const a = write('reload/a.ts', `import { b } from './b.ts';\nexport const a = b;\n`);
  write('reload/b.ts', `export const b = 1;\n`);
  write('reload/c.ts', `export const c = 1;\n`);
  const reference = write('reload/times', '');
  // The reference takes a's times to the nanosecond; a, edited (same size), gets them back.
  execFileSync('touch', ['-r', a, reference]);
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['reload/a.ts', 'reload/b.ts']);
  fs.writeFileSync(a, `import { c } from './c.ts';\nexport const a = c;\n`);
  execFileSync('touch', ['-r', reference, a]);
  assert.equal(fs.statSync(a).mtimeMs, fs.statSync(reference).mtimeMs);
  // Within one load, what was read stands (the reason a reload must forget it).
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['reload/a.ts', 'reload/b.ts']);
  new TaskfileModules(path.join(temp, 'reload', 'Taskfile.ts')).forget();
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['reload/a.ts', 'reload/c.ts']);
});

test("a module's text read to check the code record stands only while the file is as it was read", () => {
  const a = write('handed/a.ts', `import { b } from './b.ts';\nexport const a = b;\n`);
  write('handed/b.ts', `export const b = 1;\n`);
  write('handed/c.ts', `export const c = 1;\n`);
  // The record check read a.ts; an edit lands before the load walks it.
  noteSourceRead(a, fs.statSync(a), fs.readFileSync(a, 'utf8'));
  fs.writeFileSync(a, `import { c } from './c.ts';\nexport const a = c + 100;\n`);
  assert.deepEqual(codeInputs(pathToFileURL(a), temp), ['handed/a.ts', 'handed/c.ts']);
});

test('specifiers: runtime imports and re-exports, not type-only ones', () => {
  assert.deepEqual(
    relativeSpecifiers(`import a from './a.ts';\nexport { b } from "../b.ts";\nimport './c.ts';\nexport type { D } from './d.ts';\nimport { type E, f } from './f.ts';\nconst g = "import x from './g.ts'";\n`),
    ['./a.ts', '../b.ts', './c.ts', './f.ts'],
  );
});

test("the recipe: each task's inputs are its module and the recipe modules it uses, never the engine's", async () => {
  const taskfile = path.resolve(import.meta.dirname, '..', 'Taskfile.ts');
  const loaded = await loadTaskfile(taskfile, new Map([['hostMode', 'standalone']]), (file) => import(file));
  const inputs = (name: string) => loaded.tasks.get(name)?.spec.inputs ?? [];
  // hosts finds the container through host.ts, which picks standalone.ts or systemd-host.ts (both
  // built on container.ts): an edit to any of them, or to hosts-file.ts, reruns hosts.
  for (const file of ['tasks/hosts.ts', 'tasks/lib/hosts-file.ts', 'tasks/lib/files.ts', 'tasks/lib/host.ts', 'tasks/lib/container.ts', 'tasks/lib/standalone.ts', 'tasks/lib/systemd-host.ts']) {
    assert.ok(inputs('hosts').includes(file), `hosts reads ${file}: ${inputs('hosts').join(' ')}`);
  }
  assert.ok(inputs('nspawn-config').includes('tasks/lib/procfs.ts'), 'nspawn-config asks procfs.ts for the host capabilities');
  assert.deepEqual(inputs('execd').slice(0, 4), ['execd/go.mod', 'execd/cmd', 'execd/protocol', 'execd/server'], 'the Go sources stay');
  assert.equal(inputs('chroot')[0], 'build/execd', 'the binary stays');
  assert.ok(inputs('nspawn-config').includes('tasks/lib/nspawn-settings.ts'), 'the settings both host modes give the container');
  assert.ok(inputs('firewall').includes('tasks/lib/nftables.ts'), "the table's rules are the firewall's code");
  for (const [name, def] of loaded.tasks) {
    for (const input of def.spec.inputs ?? []) assert.ok(!input.startsWith('src/') && !path.isAbsolute(input), `${name}: ${input}`);
    // A step's code is its own module and the helpers it uses, never another step's module.
    const code = (def.spec.inputs ?? []).filter((input) => input.startsWith('tasks/'));
    assert.deepEqual(code.slice(1).filter((input) => !input.startsWith('tasks/lib/')), [], `${name}: ${code.join(' ')}`);
  }
});
