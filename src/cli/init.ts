// `task --init`: a starter Taskfile.ts that runs as it is.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../base/errors.ts';

/**
 * The engine's package folder: this module runs from src/cli/ (through jiti, after an edit) or
 * bundled into a chunk directly in dist/.
 */
export const packageRoot = fileURLToPath(new URL(new URL('.', import.meta.url).pathname.endsWith('/src/cli/') ? '../../' : '../', import.meta.url));

/**
 * How a Taskfile in `folder` imports the API. By the package's name where the project has this
 * engine installed in its `node_modules` (or a folder above's), as any dependency is imported,
 * and where the engine is an installed package without its source (`task` resolves the name to
 * itself). Else, from a checkout of this repository, by the relative path of its
 * `src/index.ts`, as the Taskfiles of this repository do.
 */
export function apiImport(folder: string): string {
  const real = (file: string) => {
    try {
      return fs.realpathSync(file);
    } catch {
      return undefined;
    }
  };
  const engine = real(packageRoot);
  const { name } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { name: string };
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (engine !== undefined && real(path.join(dir, 'node_modules', name)) === engine) return name;
    if (path.dirname(dir) === dir) break;
  }
  const source = path.join(packageRoot, 'src/index.ts');
  if (!fs.existsSync(source)) return name;
  const relative = path.relative(folder, source).split(path.sep).join('/');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

export function starterTaskfile(api: string): string {
  return `// A starter Taskfile: \`task\` builds the default target, \`task --list\` lists the tasks,
// \`task greeting=hi\` overrides a parameter, \`task -n\` shows what would run.
import { param, task } from '${api}';

const greeting = param('greeting', 'hello', 'what hello.txt says');

const hello = task('hello', {
  description: 'writes build/hello.txt',
  values: { greeting },                 // a change of value reruns the task
  outputs: ['build/hello.txt'],         // build/ exists before the task runs
  run: async (ctx) => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile('build/hello.txt', \`\${ctx.values.greeting}, world\\n\`);
  },
});

const count = task('count', {
  description: 'counts the words of build/hello.txt',
  inputs: ['build/hello.txt'],          // hello's output: hello runs first
  outputs: ['build/count.txt'],
  run: async (ctx) => {
    const { stdout } = await ctx.exec('wc', ['-w', 'build/hello.txt']);
    const { writeFile } = await import('node:fs/promises');
    await writeFile('build/count.txt', stdout);
  },
});

export default task('all', { description: 'everything', deps: [hello, count] });
`;
}

/** Writes `folder/Taskfile.ts`; refuses (exit 2) when there is one. Returns its path. */
export function writeStarter(folder: string): string {
  const file = path.join(folder, 'Taskfile.ts');
  const text = starterTaskfile(apiImport(folder));
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${file} exists; --init writes a new one only`);
    throw error;
  }
  return file;
}
