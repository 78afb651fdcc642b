// Finds and loads a Taskfile (TypeScript, no build step, through jiti) and collects what it declares.
import fs from 'node:fs';
import path from 'node:path';
import { TaskError, TaskfileError, UsageError } from '../base/errors.ts';
import { resetRegistry, type ParamDef, type TaskDef } from './registry.ts';
import { didYouMean } from '../base/suggest.ts';
import type { TaskRef } from './types.ts';

/**
 * Imports a module by absolute path; the CLI passes jiti's, tests may pass another. `record`: the
 * run may leave what the load compiled in the state folder (a plain build; never -n or --list).
 */
export type ModuleImporter = (file: string, options?: { record?: boolean }) => Promise<unknown>;

export interface LoadedTaskfile {
  file: string;
  root: string;
  tasks: Map<string, TaskDef>;
  params: Map<string, ParamDef>;
  /** The default export's task name, if the Taskfile has one. */
  defaultTarget: string | undefined;
}

/**
 * The Taskfile's path: `--taskfile FILE`, else `DIR/Taskfile.ts` for `-C DIR`, else the nearest
 * Taskfile.ts in the current folder or above it (as go-task and npm find theirs). As in make,
 * `-C DIR` comes first: a relative FILE is found from DIR.
 */
export function locateTaskfile(options: { taskfile?: string; directory?: string; cwd: string }): string {
  const start = path.resolve(options.cwd, options.directory ?? '.');
  if (options.taskfile !== undefined || options.directory !== undefined) {
    const file = options.taskfile ? path.resolve(start, options.taskfile) : path.join(start, 'Taskfile.ts');
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (!stat) {
      if (!options.taskfile && !fs.existsSync(start)) throw new UsageError(`no folder ${start} (-C)`);
      throw new UsageError(options.taskfile ? `no Taskfile at ${file}` : `no Taskfile.ts in ${start} (use -C DIR or --taskfile FILE)`);
    }
    if (stat.isDirectory()) throw new UsageError(`--taskfile ${file} is a folder: give the Taskfile in it, or -C ${file}`);
    return file;
  }
  const found = findTaskfileAbove(start);
  if (found === undefined) {
    throw new UsageError(`no Taskfile.ts in ${start} or any folder above it (use -C DIR or --taskfile FILE)`);
  }
  return found;
}

/** The nearest `Taskfile.ts` in `dir` or a folder above it, if any. */
export function findTaskfileAbove(dir: string): string | undefined {
  for (let folder = dir; ; folder = path.dirname(folder)) {
    const file = path.join(folder, 'Taskfile.ts');
    if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return file;
    if (path.dirname(folder) === folder) return undefined;
  }
}

export async function loadTaskfile(file: string, overrides: Map<string, string>, importModule: ModuleImporter, options: { record?: boolean } = {}): Promise<LoadedTaskfile> {
  const registry = resetRegistry(overrides);
  let exports: Record<string, unknown>;
  try {
    exports = (await importModule(file, options)) as Record<string, unknown>;
  } catch (error) {
    // Our own errors (a bad parameter value) keep their message and exit status.
    if (error instanceof TaskError || typeof (error as TaskError)?.exitStatus === 'number') throw error;
    throw new TaskfileError(`${file}: ${describeLoadError(error, file)}`);
  }
  if (registry.errors.length > 0) throw new TaskfileError(`${file}: ${registry.errors.join('; ')}`);
  if (registry.tasks.size === 0) throw new TaskfileError(`${file} declares no tasks (call task() from src/index.ts)`);
  for (const name of overrides.keys()) {
    if (!registry.params.has(name)) {
      const known = [...registry.params.keys()];
      throw new UsageError(`unknown parameter '${name}'${didYouMean(name, known)}${known.length ? `; parameters: ${known.join(', ')}` : '; this Taskfile declares none'}`);
    }
  }
  const defaultExport = exports?.default as TaskRef | string | undefined;
  const defaultTarget = typeof defaultExport === 'string' ? defaultExport : defaultExport?.name;
  return { file, root: path.dirname(file), tasks: registry.tasks, params: registry.params, defaultTarget };
}

/** "Taskfile.ts:12: message": the first stack frame outside the engine and node_modules. */
function describeLoadError(error: unknown, file: string): string {
  if (!(error instanceof Error)) return String(error);
  const whole = error.message.trim();
  // jiti: "ParseError: Unexpected token \n /path/Taskfile.ts:3:10"
  const parse = whole.match(/^ParseError: (.*?)\s+(\S+):(\d+):\d+$/s);
  if (parse) return `${path.relative(path.dirname(file), parse[2]!) || parse[2]}:${parse[3]}: syntax error: ${parse[1]!.trim()}`;
  // Node's own messages may go on over lines ("Require stack: ..."): the first says what is wrong.
  const message = whole.split('\n')[0]!;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    const importer = (error as { requireStack?: string[] }).requireStack?.[0];
    return `${message}${importer ? ` (imported by ${path.relative(path.dirname(file), importer) || importer})` : ''}`;
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') return `not a Taskfile: ${message}`;
  const engineDir = path.dirname(new URL(import.meta.url).pathname);
  for (const line of error.stack?.split('\n').slice(1) ?? []) {
    // An absolute path of a file, not the inside of a `node:internal/...` frame.
    const match = line.match(/(?:^|[\s(])((?:\/|[A-Za-z]:\\)[^\s()]+):(\d+):(\d+)\)?$/);
    if (!match) continue;
    const [, where, row] = match;
    if (!where || where.includes('node_modules') || where.startsWith(engineDir)) continue;
    return `${path.relative(path.dirname(file), where) || where}:${row}: ${message}`;
  }
  return message;
}
