// The engine's side of spawn-helper.c: one helper process per run, started with the first
// command, sent start and signal requests over a pipe; it answers with output and exit
// statuses, and writes the pids it started to a file read only if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import util from 'node:util';
import { baseEnvironment, environmentProblem, signalProcessGroup, type LaunchedCommand, type LaunchOutcome, type LaunchRequest } from '../command-launch.ts';
import { binaryFolder, binaryPath } from './location.ts';

/** The helper binary built from the current source, when it is built; otherwise undefined. */
export function usableHelper(): string | undefined {
  if (process.platform !== 'linux' || process.env.TASK_SPAWN === 'node') return undefined;
  const binary = binaryPath();
  if (binary === undefined) return undefined;
  if (fs.statSync(binary, { throwIfNoEntry: false })) return binary;
  // Built once, but not from this source (an edit, a checkout of another version).
  let built: string[] = [];
  try {
    built = fs.readdirSync(binaryFolder).filter((name) => name.startsWith('spawn-helper'));
  } catch {
    // Never built: `prepare` said so when it ran.
  }
  if (built.length > 0) {
    process.stderr.write('task: warning: the spawn helper is not built from its current source; commands start through Node until `npm run prepare` builds it\n');
  }
  return undefined;
}

interface Pending {
  request: LaunchRequest;
  /** Known once it has exited (the helper says which pid it was). */
  exitedPid: number | undefined;
  /** Made at the first output of each stream: most commands of a build print nothing. */
  out: StringDecoder | undefined;
  err: StringDecoder | undefined;
  stdout: string[];
  stderr: string[];
  resolve(outcome: LaunchOutcome): void;
}

// The first name of each number, as Node reports it (SIGABRT, not its alias SIGIOT).
const signalNames = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(os.constants.signals)) if (!signalNames.has(number)) signalNames.set(number, name as NodeJS.Signals);

/** A file opened and at once unlinked, so that nothing is left behind however the run ends. */
function anonymousFile(): number | undefined {
  const file = path.join(os.tmpdir(), `task-spawn-helper-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
    return fd;
  } catch {
    return undefined;
  }
}

export class SpawnHelper {
  #child: ChildProcess;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #unread: Buffer = Buffer.alloc(0);
  #broken: string | undefined;
  /** The helper's "id pid" lines of the commands it started (its fd 3), if the file could be made. */
  #pidFile: number | undefined;
  /** Pids the helper replied with ("P"), when it could not write them to the file. */
  #repliedPids = new Map<number, number>();

  constructor(binary: string) {
    this.#pidFile = anonymousFile();
    const stdio = this.#pidFile === undefined ? ['pipe', 'pipe', 'inherit'] as const : ['pipe', 'pipe', 'inherit', this.#pidFile] as const;
    this.#child = spawn(binary, [], { stdio: [...stdio], env: baseEnvironment() });
    this.#child.on('error', (error) => this.#fail(`the spawn helper could not start: ${error.message}`));
    // 'close', not 'exit': the replies still in the pipe are read first.
    this.#child.on('close', (code, signal) => {
      this.#fail(`the spawn helper exited (${signal ?? `code ${code}`})`);
      if (this.#pidFile !== undefined) fs.closeSync(this.#pidFile);
      this.#pidFile = undefined;
    });
    this.#child.stdin!.on('error', () => {});
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#read(chunk));
    this.#idle();
  }

  /** The helper's own pid (for tests that stop it). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Ends the helper's input, as the engine's exit does: it kills what still runs, and exits. */
  close(): void {
    this.#child.stdin!.end();
  }

  /** Ends the helper's input and resolves once it has exited and Node has reaped it. */
  exited(): Promise<void> {
    // Never started (its 'error' said why), or already gone.
    if (this.#child.pid === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    const gone = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    // Idle, it holds the process open no more: while it is waited for, it must.
    this.#child.ref();
    this.close();
    return gone;
  }

  /** Why the helper stopped working, once it has; later commands then start another way. */
  get broken(): string | undefined {
    return this.#broken;
  }

  launch(request: LaunchRequest): LaunchedCommand {
    const id = this.#nextId++;
    let resolve!: (outcome: LaunchOutcome) => void;
    const finished = new Promise<LaunchOutcome>((r) => (resolve = r));
    const pending: Pending = {
      request, exitedPid: undefined, resolve,
      out: undefined, err: undefined, stdout: [], stderr: [],
    };
    if (this.#broken !== undefined) {
      resolve({ started: false, message: this.#broken, helperFailed: true });
    } else {
      const problem = this.#send(id, request);
      if (problem) resolve({ started: false, message: problem });
      else {
        this.#pending.set(id, pending);
        this.#busy();
      }
    }
    return {
      signalGroup: (signal) => {
        // Running (or not started yet): the helper knows its pid. Exited: what is left of its group.
        if (pending.exitedPid !== undefined) signalProcessGroup(pending.exitedPid, signal);
        else if (this.#pending.has(id) && this.#broken === undefined) this.#child.stdin!.write(`K\0${id}\0${os.constants.signals[signal]}\0`);
      },
      finished,
    };
  }

  #send(id: number, request: LaunchRequest): string | undefined {
    const changes = request.env === undefined ? [] : Object.entries(request.env).map(([name, value]) => (value === undefined ? name : `${name}=${value}`));
    const fields = ['S', String(id), request.cwd, String(1 + request.args.length), request.file, ...request.args, String(changes.length), ...changes];
    if (fields.some((field) => field.includes('\0'))) return `a NUL byte in the command, its arguments or environment: ${request.file}`;
    const problem = environmentProblem(request.env);
    if (problem) return `${problem}: ${request.file}`;
    this.#child.stdin!.write(fields.join('\0') + '\0');
    return undefined;
  }

  #read(chunk: Buffer): void {
    const data = this.#unread.length > 0 ? Buffer.concat([this.#unread, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const newline = data.indexOf(10, at);
      if (newline < 0) break;
      const [kind, idText, a, b, ...usage] = data.toString('latin1', at, newline).split(' ');
      const pending = this.#pending.get(Number(idText));
      if (kind === 'O') {
        const end = newline + 1 + Number(b);
        if (end > data.length) break;
        if (pending) this.#output(pending, a === '1', data.subarray(newline + 1, end));
        at = end;
        continue;
      }
      at = newline + 1;
      if (!pending) continue;
      if (kind === 'P') this.#repliedPids.set(Number(idText), Number(a));
      else if (kind === 'F') this.#finish(Number(idText), { started: false, message: this.#startError(pending.request, Number(a)) });
      else if (kind === 'X') this.#exited(Number(idText), pending, Number(a), Number(b), usage.map(Number));
    }
    this.#unread = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
  }

  #output(pending: Pending, toStdout: boolean, bytes: Buffer): void {
    const decoder = toStdout ? (pending.out ??= new StringDecoder('utf8')) : (pending.err ??= new StringDecoder('utf8'));
    const text = decoder.write(bytes);
    if (!text) return;
    (toStdout ? pending.stdout : pending.stderr).push(text);
    pending.request.onOutput(text);
  }

  /** `usage`: user and system CPU in microseconds and peak memory in KiB, from the helper's wait4. */
  #exited(id: number, pending: Pending, status: number, pid: number, usage: number[]): void {
    pending.exitedPid = pid;
    for (const [decoder, into] of [[pending.out, pending.stdout], [pending.err, pending.stderr]] as const) {
      const rest = decoder?.end();
      if (rest) {
        into.push(rest);
        pending.request.onOutput(rest);
      }
    }
    // A waitpid status: low 7 bits are the terminating signal, or 0 for a normal exit.
    const signalNumber = status & 0x7f;
    this.#finish(id, {
      started: true,
      exitCode: signalNumber === 0 ? (status >> 8) & 0xff : null,
      signal: signalNumber === 0 ? null : (signalNames.get(signalNumber) ?? null),
      stdout: pending.stdout.join(''),
      stderr: pending.stderr.join(''),
      ...(usage.length === 3 && usage.every(Number.isFinite) ? { usage: { userMs: usage[0]! / 1000, systemMs: usage[1]! / 1000, peakRssKb: usage[2]! } } : {}),
    });
  }

  #startError(request: LaunchRequest, errno: number): string {
    const code = util.getSystemErrorName(-errno);
    if (code === 'ENOENT' && !fs.existsSync(request.cwd)) return `its working folder ${request.cwd} does not exist (${code})`;
    return `spawn ${request.file} ${code}`;
  }

  #finish(id: number, outcome: LaunchOutcome): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    this.#repliedPids.delete(id);
    pending.resolve(outcome);
    if (this.#pending.size === 0) this.#idle();
  }

  // Commands it had started cannot be followed any more: they are killed, and fail. Those it
  // had not may be started another way (helperFailed).
  #fail(message: string): void {
    this.#broken ??= message;
    if (this.#pending.size === 0) return;
    const started = this.#startedPids();
    for (const id of [...this.#pending.keys()]) {
      const pid = started.get(id);
      if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
      this.#finish(id, { started: false, message, helperFailed: pid === undefined });
    }
  }

  /** The pids of the commands the helper started, by request id: its file (read from the start, as the helper owns the offset), and its replies. */
  #startedPids(): Map<number, number> {
    const pids = new Map(this.#repliedPids);
    if (this.#pidFile === undefined) return pids;
    const size = fs.fstatSync(this.#pidFile).size;
    const bytes = Buffer.alloc(size);
    const read = size > 0 ? fs.readSync(this.#pidFile, bytes, 0, size, 0) : 0;
    for (const line of bytes.toString('latin1', 0, read).split('\n')) {
      const [id, pid] = line.split(' ').map(Number);
      if (id !== undefined && pid !== undefined && pid > 0) pids.set(id, pid);
    }
    return pids;
  }

  // While commands run, the helper's pipe keeps the process alive; when idle, it must not.
  #busy(): void {
    this.#child.ref();
    (this.#child.stdout as unknown as { ref?(): void }).ref?.();
  }

  #idle(): void {
    this.#child.unref();
    (this.#child.stdout as unknown as { unref?(): void }).unref?.();
    (this.#child.stdin as unknown as { unref?(): void }).unref?.();
  }
}
