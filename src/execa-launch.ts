// Starts a command through execa (Node's own spawn). Used when the spawn helper is not built,
// when TASK_SPAWN=node asks for it, and for commands given standard input.
import { execa } from 'execa';
import { commandEnvironment, environmentProblem, signalProcessGroup, type LaunchedCommand, type LaunchOutcome, type LaunchRequest } from './command-launch.ts';

export function launchWithExeca(request: LaunchRequest): LaunchedCommand {
  const problem = environmentProblem(request.env);
  if (problem) return { signalGroup: () => {}, finished: Promise.resolve({ started: false, message: `${problem}: ${request.file}` }) };
  const child = execa(request.file, request.args, {
    cwd: request.cwd,
    env: commandEnvironment(request.env),
    extendEnv: false,
    input: request.input,
    stdin: request.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    detached: true,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const pid = child.pid;
  child.stdout?.setEncoding('utf8').on('data', request.onOutput);
  child.stderr?.setEncoding('utf8').on('data', request.onOutput);
  return {
    signalGroup: (signal) => {
      if (pid !== undefined) signalProcessGroup(pid, signal);
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
