// Generates a C project two ways, a build.ninja (deps = gcc) and a Taskfile.ts (declared
// commands), over the same sources, so that ninja and `task` compile exactly the same files with
// the same command lines and their objects can be compared byte for byte.
//
//   node --import jiti/register bench/c-generate.ts DIR [--files 300] [--headers 24] [--seed 1] [--deps declared|depfile]
//
// Sources: `src/fN.c`, each including `common.h` and a few of `include/hK.h` (picked by a seeded
// generator, `h0.h` by about a quarter of them: the header the benchmark edits), with enough code
// that compiling takes the time a small real file does; `src/main.c` calls every file's function.
// The link step is in a pool of depth 1 (ninja: the link step runs alone as well, by its deps).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { engineIndex, random } from './generate.ts';

/**
 * How the Taskfile knows which headers an object read:
 * - `depfile`: as ninja, from the compiler's `-MMD -MF` file (the `depfile` field);
 * - `declared`: each object's `inputs` list its headers, written out by the generator (what a
 *   user without `depfile` would have to write by hand).
 */
export type HeaderDeps = 'declared' | 'depfile';

export interface CProjectDescription {
  files: number;
  headers: number;
  seed: number;
  deps: HeaderDeps;
}

export interface CProject {
  dir: string;
  /** Object files, relative to `dir`, in build order (main's last). */
  objects: string[];
  /** The header each benchmark edit touches, and the objects that include it. */
  editedHeader: string;
  includers: string[];
}

export const cflags = ['-O2', '-Iinclude'];

function header(k: number): string {
  return `#ifndef H${k}_H
#define H${k}_H
#include "common.h"
static inline int h${k}_mix(int x) { return (x * ${2 * k + 3}) ^ (x >> ${(k % 7) + 1}); }
struct h${k}_pair { int a, b; };
#define H${k}_SCALE ${k + 2}
#endif
`;
}

/** A file with a few functions and loops: about what a small real source costs to compile at -O2. */
function source(i: number, includes: number[]): string {
  const lines = [`#include "common.h"`, ...includes.map((k) => `#include "h${k}.h"`), ''];
  for (let f = 0; f < 6; f++) {
    lines.push(`static int f${i}_${f}(const int *v, int n) {`);
    lines.push(`  int acc = ${f};`);
    lines.push(`  for (int j = 0; j < n; j++) {`);
    for (const k of includes) lines.push(`    acc += h${k}_mix(v[j] + ${f}) * H${k}_SCALE;`);
    lines.push(`    if (acc % ${f + 3} == 0) acc ^= v[(j + ${f}) % n]; else acc -= j;`);
    lines.push(`  }`);
    lines.push(`  return acc;`);
    lines.push(`}`);
  }
  lines.push(`int f${i}(int seed) {`);
  lines.push(`  int v[COMMON_N];`);
  lines.push(`  for (int j = 0; j < COMMON_N; j++) v[j] = seed + j * ${i + 1};`);
  lines.push(`  return ${Array.from({ length: 6 }, (_, f) => `f${i}_${f}(v, COMMON_N)`).join(' + ')};`);
  lines.push(`}`);
  return `${lines.join('\n')}\n`;
}

export function generateC(dir: string, description: CProjectDescription): CProject {
  const { files, headers, seed } = description;
  const next = random(seed);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'include'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'include/common.h'), '#ifndef COMMON_H\n#define COMMON_H\n#define COMMON_N 64\nint common_version(void);\n#endif\n');
  for (let k = 0; k < headers; k++) fs.writeFileSync(path.join(dir, `include/h${k}.h`), header(k));
  const units: Array<{ name: string; includes: number[] }> = [];
  for (let i = 0; i < files; i++) {
    const includes = new Set<number>();
    if (next() < 0.25) includes.add(0);
    while (includes.size < 3) includes.add(1 + Math.floor(next() * (headers - 1)));
    const list = [...includes].sort((a, b) => a - b);
    fs.writeFileSync(path.join(dir, `src/f${i}.c`), source(i, list));
    units.push({ name: `f${i}`, includes: list });
  }
  const calls = units.map((u) => `  total += ${u.name}(argc);`).join('\n');
  const declarations = units.map((u) => `int ${u.name}(int);`).join('\n');
  fs.writeFileSync(path.join(dir, 'src/main.c'), `#include <stdio.h>\n#include "common.h"\n${declarations}\nint common_version(void) { return 1; }\nint main(int argc, char **argv) {\n  (void)argv;\n  long total = 0;\n${calls}\n  printf("%ld\\n", total);\n  return 0;\n}\n`);
  units.push({ name: 'main', includes: [] });

  const objects = units.map((u) => `obj/${u.name}.o`);
  writeNinja(dir, units.map((u) => u.name));
  writeTaskfile(dir, units, description.deps);
  return {
    dir,
    objects,
    editedHeader: 'include/h0.h',
    includers: units.filter((u) => u.includes.includes(0)).map((u) => `obj/${u.name}.o`),
  };
}

function writeNinja(dir: string, names: string[]): void {
  const lines = [
    `cflags = ${cflags.join(' ')}`,
    'rule cc',
    '  command = cc $cflags -MMD -MF $out.d -c $in -o $out',
    '  deps = gcc',
    '  depfile = $out.d',
    'rule link',
    '  command = cc -o $out $in',
    ...names.map((name) => `build obj/${name}.o: cc src/${name}.c`),
    `build app: link ${names.map((name) => `obj/${name}.o`).join(' ')}`,
    'default app',
  ];
  fs.writeFileSync(path.join(dir, 'build.ninja'), `${lines.join('\n')}\n`);
}

function writeTaskfile(dir: string, units: Array<{ name: string; includes: number[] }>, deps: HeaderDeps): void {
  // Compact: one array of [name, headers], one loop; the engine by its absolute path.
  const table = JSON.stringify(units.map((u) => [u.name, u.includes]));
  const objectTask =
    deps === 'depfile'
      ? `task(\`obj-\${name}\`, {
    inputs: [\`src/\${name}.c\`],
    outputs: [\`obj/\${name}.o\`],
    depfile: \`obj/\${name}.o.d\`,
    command: ['cc', ...cflags, '-MMD', '-MF', \`obj/\${name}.o.d\`, '-c', \`src/\${name}.c\`, '-o', \`obj/\${name}.o\`],
  } as Parameters<typeof task>[1])`
      : `task(\`obj-\${name}\`, {
    inputs: [\`src/\${name}.c\`, 'include/common.h', ...headers.map((k) => \`include/h\${k}.h\`)],
    outputs: [\`obj/\${name}.o\`],
    command: ['cc', ...cflags, '-c', \`src/\${name}.c\`, '-o', \`obj/\${name}.o\`],
  })`;
  const text = `import { pool, task } from ${JSON.stringify(engineIndex)};
const units: Array<[string, number[]]> = ${table};
const cflags = ${JSON.stringify(cflags)};
const link = pool('link', 1);
const objects = units.map(([name, headers]) =>
  ${objectTask},
);
export default task('app', { deps: objects, pool: link, outputs: ['app'], command: ['cc', '-o', 'app', ...units.map(([name]) => \`obj/\${name}.o\`)] });
`;
  fs.writeFileSync(path.join(dir, 'Taskfile.ts'), text);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, ...rest] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: c-generate.ts DIR [--files 300] [--headers 24] [--seed 1] [--deps declared|depfile]\n');
    process.exit(2);
  }
  const option = (name: string, fallback: string) => {
    const at = rest.indexOf(`--${name}`);
    return at >= 0 && rest[at + 1] !== undefined ? rest[at + 1]! : fallback;
  };
  const project = generateC(path.resolve(dir), {
    files: Number(option('files', '300')),
    headers: Number(option('headers', '24')),
    seed: Number(option('seed', '1')),
    deps: option('deps', 'depfile') as HeaderDeps,
  });
  process.stdout.write(`${project.dir}: ${project.objects.length} objects, ${project.includers.length} include ${project.editedHeader}\n`);
}
