// The context a task's `run` and `check` receive. The command runner (and with it execa) is
// imported on the first `exec`, so a build where nothing runs never loads it.
import path from 'node:path';
import { baseEnvironment } from './command-launch.ts';
import { TaskLog } from './task-log.ts';
import type { ExecOptions, TaskContext, Value } from './types.ts';

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
}): TaskContext {
  const { name, root, log, signal } = options;
  // Every command of the run gets the environment as it was before the first check or run
  // could change it, whichever task's command happens to start first.
  baseEnvironment();
  return {
    name,
    root,
    values: options.values,
    signal,
    stateDir: path.join(options.stateDir, 'tasks', name),
    log: (line: string) => log.line(line),
    async exec(file: string, args: readonly string[] = [], execOptions: ExecOptions = {}) {
      const { runCommand } = await loadCommandRunner();
      return runCommand(file, args, {
        ...execOptions,
        cwd: execOptions.cwd ? path.resolve(root, execOptions.cwd) : root,
        signal,
        log,
      });
    },
  };
}
