// Starts a command through execa (Node's own spawn). Used when the spawn helper is not built,
// when TASK_SPAWN=node asks for it, for commands given standard input, and for commands given
// the terminal.
import { execa } from 'execa';
import { commandEnvironment, environmentProblem, signalProcessGroup, type LaunchedCommand, type LaunchOutcome, type LaunchRequest } from './command-launch.ts';

export function launchWithExeca(request: LaunchRequest): LaunchedCommand {
  const problem = environmentProblem(request.env);
  if (problem) return { signalGroup: () => {}, finished: Promise.resolve({ started: false, message: `${problem}: ${request.file}` }) };
  // A command given the terminal stays in the engine's process group, the terminal's foreground
  // group: a process outside it that reads the terminal is stopped (SIGTTIN).
  const inherit = request.inherit === true;
  const child = execa(request.file, request.args, {
    cwd: request.cwd,
    env: commandEnvironment(request.env),
    extendEnv: false,
    ...(inherit ? { stdio: 'inherit' as const } : { input: request.input, stdin: request.input === undefined ? ('ignore' as const) : ('pipe' as const) }),
    reject: false,
    detached: !inherit,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const pid = child.pid;
  child.stdout?.setEncoding('utf8').on('data', request.onOutput);
  child.stderr?.setEncoding('utf8').on('data', request.onOutput);
  return {
    signalGroup: (signal) => {
      if (pid === undefined) return;
      // Node signals no process once the child has exited.
      if (inherit) child.kill(signal);
      else signalProcessGroup(pid, signal);
    },
    finished: child.then((result): LaunchOutcome => {
      const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
      const signal = (result.signal ?? null) as NodeJS.Signals | null;
      if (result.failed && exitCode === null && signal === null) {
        // It never started (no such program, no such folder).
        return { started: false, message: result.cause instanceof Error ? result.cause.message : String(result.shortMessage) };
      }
      return { started: true, exitCode, signal, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
    }),
  };
}
