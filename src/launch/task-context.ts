// The context a task's `run` and `check` receive. The command runner (and with it execa) is
// imported on the first `exec`, so a build where nothing runs never loads it.
import fs from 'node:fs';
import path from 'node:path';
import { baseEnvironment } from './command-launch.ts';
import { TaskFailure } from '../base/errors.ts';
import { shellQuote } from '../base/format.ts';
import { didYouMean } from '../base/suggest.ts';
import { TaskLog } from './task-log.ts';
import type { UsageTally } from './usage.ts';
import type { ExecOptions, TaskContext, Value } from '../taskfile/types.ts';

let commandRunner: Promise<typeof import('./command-runner.ts')> | undefined;
let loadedRunner: typeof import('./command-runner.ts') | undefined;
const loadCommandRunner = () =>
  (commandRunner ??= import('./command-runner.ts').then((runner) => (loadedRunner = runner)));

/** Waits for commands still running (being stopped after an interrupt); free if none ever ran. */
export async function commandsSettled(): Promise<void> {
  if (commandRunner) await (await commandRunner).commandsSettled();
}

/** SIGKILL every running command at once (a second Ctrl-C). */
export function killCommandsNow(): void {
  loadedRunner?.killAllCommandsNow();
}

export function makeContext(options: {
  name: string;
  root: string;
  stateDir: string;
  values: Record<string, Value>;
  signal: AbortSignal;
  log: TaskLog;
  /** The task is in the console pool (`pool: 'console'`): its commands may take the terminal. */
  terminal?: boolean;
  /** Where `ctx.discovered` puts what it is given (a check's context keeps nothing). */
  discovered?: (paths: readonly string[]) => void;
  /** Told each command line `exec` starts (commandLine), so the run's lines can be recorded. */
  onExec?: (line: string) => void;
  /** Where its commands' CPU time and peak memory are added up. */
  usage?: UsageTally;
  /** A run's context makes the task's state folder when asked for it; a check's only names it. */
  makesStateDir?: boolean;
}): TaskContext {
  const { name, root, log, signal } = options;
  let stateDirMade = false;
  // Every command of the run gets the environment as it was before the first check or run
  // could change it, whichever task's command happens to start first.
  baseEnvironment();
  return {
    name,
    root,
    values: options.values,
    signal,
    // Made on first use by a run: most tasks never ask for it.
    get stateDir() {
      const dir = path.join(options.stateDir, 'tasks', name);
      if (options.makesStateDir && !stateDirMade) {
        fs.mkdirSync(dir, { recursive: true });
        stateDirMade = true;
      }
      return dir;
    },
    log: (line: string) => log.line(line),
    discovered(paths: readonly string[]) {
      if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p !== '')) {
        throw new TaskFailure(`task '${name}': discovered(paths) takes an array of non-empty path strings`);
      }
      options.discovered?.(paths);
    },
    async exec(file: string, args: readonly string[] = [], execOptions: ExecOptions = {}) {
      const problem = execProblem(file, args, execOptions);
      if (problem) throw new TaskFailure(`task '${name}': ${problem}`);
      if (execOptions.stdio === 'inherit' && !options.terminal) {
        throw new TaskFailure(`task '${name}': stdio 'inherit' gives a command the terminal; declare the task with pool: 'console'`);
      }
      options.onExec?.(commandLine(file, args, execOptions));
      const { runCommand } = await loadCommandRunner();
      return runCommand(file, args, {
        ...execOptions,
        cwd: execOptions.cwd ? path.resolve(root, execOptions.cwd) : root,
        signal,
        log,
        usage: options.usage,
      });
    },
  };
}

/**
 * A command as a shell would run it, for the record and messages: `cd DIR && env -u X Y=1 cc
 * -c a.c` where `exec` was given a `cwd` or `env`, plain `cc -c a.c` otherwise.
 */
export function commandLine(file: string, args: readonly string[], options: ExecOptions = {}): string {
  const env = Object.entries(options.env ?? {});
  const envWords = env.length === 0 ? [] : ['env', ...env.flatMap(([name, value]) => (value === undefined ? ['-u', name] : [`${name}=${value}`]))];
  const line = shellQuote([...envWords, file, ...args]);
  return options.cwd ? `cd ${shellQuote([options.cwd])} && ${line}` : line;
}

/** Each option of `exec` and what its value must be. */
const execOptionRules: Record<keyof ExecOptions, [string, (v: unknown) => boolean]> = {
  cwd: ['a string', (v) => typeof v === 'string'],
  env: ['an object of strings (undefined removes a variable)', (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => x === undefined || typeof x === 'string')],
  input: ['a string or bytes', (v) => typeof v === 'string' || v instanceof Uint8Array],
  reject: ['true or false', (v) => typeof v === 'boolean'],
  timeout: ['a number of milliseconds', (v) => typeof v === 'number' && v > 0],
  quiet: ['true or false', (v) => typeof v === 'boolean'],
  stdio: ["'pipe' or 'inherit'", (v) => v === 'pipe' || v === 'inherit'],
};

const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? (Array.isArray(value) ? 'an array' : 'an object') : String(value));

/**
 * What is wrong with a call of `exec`, checked at the call: a string as `args` would otherwise be
 * spread into one argument a letter (`echo h e l l o`), a number would fail deep in the launcher,
 * and a misspelt option would be ignored.
 */
function execProblem(file: unknown, args: unknown, options: unknown): string | undefined {
  const call = `exec(${typeof file === 'string' ? JSON.stringify(file) : '...'}, ...)`;
  if (typeof file !== 'string' || file === '') return `${call}: the program must be a non-empty string, not ${shown(file)}`;
  if (!Array.isArray(args)) {
    const hint = typeof args === 'string' ? `; write exec(${JSON.stringify(file)}, [${JSON.stringify(args)}])` : '';
    return `${call}: its arguments must be an array of strings, not ${typeof args === 'string' ? 'the string ' : ''}${shown(args)}${hint}`;
  }
  for (let i = 0; i < args.length; i++) {
    const arg: unknown = args[i];
    if (typeof arg !== 'string') return `${call}: argument ${i} (${shown(arg)}, ${arg === null ? 'null' : typeof arg}) is not a string${typeof arg === 'number' ? `; write String(${arg})` : ''}`;
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return `${call}: its options must be an object, not ${shown(options)}`;
  for (const [key, value] of Object.entries(options)) {
    const rule = execOptionRules[key as keyof ExecOptions];
    if (!rule) return `${call}: unknown option '${key}'${didYouMean(key, Object.keys(execOptionRules))}; the options are ${Object.keys(execOptionRules).join(', ')}`;
    if (value !== undefined && !rule[1](value)) return `${call}: option ${key} must be ${rule[0]}, not ${shown(value)}`;
  }
  return undefined;
}
