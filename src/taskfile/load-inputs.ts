// What a Taskfile's evaluation read, so that a later run can tell, without evaluating it again,
// that it would declare the same tasks (Gradle's configuration cache works the same way). While
// the Taskfile loads, the file system calls, the environment and the modules it loads are
// watched; a command or a network request made while loading makes the load unrecordable.
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

export interface LoadInputs {
  /** Absolute paths the load opened, listed, stat'ed or asked about, and the modules it loaded. */
  paths: string[];
  /** Environment variables the load read, with the value each had (null: unset). */
  env: Record<string, string | null>;
  /** Why the load cannot be recorded (it enumerated the environment, ran a command, ...). */
  unrecordable?: string;
}

const require = createRequire(import.meta.url);

// The calls whose first argument names what is read. Writes are effects, not inputs.
const fsCalls = [
  'readFileSync', 'readdirSync', 'statSync', 'lstatSync', 'existsSync', 'accessSync', 'openSync', 'opendirSync', 'realpathSync', 'readlinkSync',
  'readFile', 'readdir', 'stat', 'lstat', 'exists', 'access', 'open', 'opendir', 'realpath', 'readlink', 'createReadStream', 'watch',
] as const;
const promiseCalls = ['readFile', 'readdir', 'stat', 'lstat', 'access', 'open', 'opendir', 'realpath', 'readlink'] as const;
const commandCalls = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
// npm, pnpm and yarn (classic and berry) rewrite one of these on each install.
const packageRecords = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', 'node_modules/.modules.yaml', 'node_modules/.yarn-integrity', 'node_modules/.yarn-state.yml'];

/** Above 0 while the engine itself reads or writes during a load (its record of the Taskfile's code): not the Taskfile's inputs. */
let enginesOwn = 0;

/** Runs `work` (synchronous: no Taskfile code runs meanwhile) without noting what it reads or runs. */
export function unnoted<T>(work: () => T): T {
  enginesOwn++;
  try {
    return work();
  } finally {
    enginesOwn--;
  }
}

/**
 * Runs `load` (the Taskfile's import) while noting what it reads. Only one load runs at a time in
 * a process (the CLI awaits it), and every patch is undone before this returns or throws.
 */
export async function recordLoadInputs<T>(load: () => Promise<T>): Promise<{ value: T; inputs: LoadInputs }> {
  const paths = new Set<string>();
  const env: Record<string, string | null> = {};
  let unrecordable: string | undefined;
  const cwd = process.cwd();
  const note = (target: unknown) => {
    if (typeof target === 'string') paths.add(path.resolve(cwd, target));
    else if (target instanceof URL && target.protocol === 'file:') paths.add(path.resolve(new URL(target).pathname));
    else if (Buffer.isBuffer(target)) paths.add(path.resolve(cwd, target.toString()));
    // A file descriptor was noted when it was opened.
  };
  const undo: Array<() => void> = [];
  const patch = <O extends object>(owner: O, name: string, before: (args: unknown[]) => void) => {
    const original = (owner as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      if (enginesOwn === 0) before(args);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    // Keeps util.promisify.custom (fs.exists), name and length.
    Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(original));
    (owner as Record<string, unknown>)[name] = wrapped;
    undo.push(() => ((owner as Record<string, unknown>)[name] = original));
  };
  for (const name of fsCalls) {
    patch(fs, name, (args) => {
      // A recursive listing names folders this does not stat one by one.
      if ((name === 'readdirSync' || name === 'readdir') && (args[1] as { recursive?: boolean } | undefined)?.recursive) unrecordable ??= `it listed ${String(args[0])} recursively`;
      note(args[0]);
    });
  }
  for (const name of promiseCalls) patch(fs.promises, name, (args) => note(args[0]));
  for (const name of commandCalls) patch(childProcess, name, (args) => (unrecordable ??= `it ran ${String(args[0])}`));
  patch(globalThis, 'fetch', () => (unrecordable ??= 'it made a network request'));
  const realEnv = process.env;
  process.env = new Proxy(realEnv, {
    get(target, key) {
      if (typeof key === 'string') env[key] = target[key] ?? null;
      return Reflect.get(target, key);
    },
    has(target, key) {
      if (typeof key === 'string') env[key] = target[key] ?? null;
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      unrecordable ??= 'it listed the environment';
      return Reflect.ownKeys(target);
    },
  });
  // Named imports of node:fs and node:child_process see the patches too.
  syncBuiltinESMExports();
  const modulesBefore = new Set(Object.keys(require.cache));
  try {
    const value = await load();
    for (const module of Object.keys(require.cache)) if (!modulesBefore.has(module)) paths.add(module);
    // Modules imported natively (ESM packages) are in no cache this can read: the package
    // managers' records of node_modules change with every install or upgrade.
    for (const file of packageRecords) paths.add(path.join(cwd, file));
    return { value, inputs: { paths: [...paths].sort(), env, ...(unrecordable ? { unrecordable } : {}) } };
  } finally {
    process.env = realEnv;
    for (const restore of undo.reverse()) restore();
    syncBuiltinESMExports();
  }
}
