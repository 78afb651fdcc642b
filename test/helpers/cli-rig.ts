// Runs the real `task` CLI on a Taskfile in a temporary folder, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(repo, 'bin/task.js');
export const api = path.join(repo, 'src/index.ts');

export interface CliResult {
  code: number | null;
  /** The signal that ended the process, when one did. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class Project {
  readonly dir: string;
  /**
   * The project's own local cache (TASK_CACHE_DIR), beside its folder: a build never reads or
   * fills the user's cache, and two projects share one only when a test says so.
   */
  cacheDir: string;
  /** Variables added to the CLI's environment. */
  env: Record<string, string> = {};

  constructor(taskfile: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'task-e2e-'));
    this.cacheDir = `${this.dir}.cache`;
    this.write('Taskfile.ts', `import { task, param } from ${JSON.stringify(api)};\n${taskfile}`);
  }

  path(file: string): string {
    return path.join(this.dir, file);
  }

  write(file: string, text: string): void {
    fs.mkdirSync(path.dirname(this.path(file)), { recursive: true });
    fs.writeFileSync(this.path(file), text);
  }

  read(file: string): string {
    return fs.readFileSync(this.path(file), 'utf8');
  }

  exists(file: string): boolean {
    return fs.existsSync(this.path(file));
  }

  /** Starts the CLI; the caller waits with `finished`. */
  spawn(args: string[], cwd = this.dir): ChildProcess {
    // CI's variables are cleared so the output is the same plain text everywhere.
    const env = { ...process.env, CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: this.cacheDir, TASK_CACHE_URL: '', ...this.env };
    return spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async run(...args: string[]): Promise<CliResult> {
    return finished(this.spawn(args));
  }

  /** Runs the CLI from another folder. */
  async runIn(cwd: string, ...args: string[]): Promise<CliResult> {
    return finished(this.spawn(args, cwd));
  }

  /** Names of the tasks that ran in a build's output ("NAME: running (...)"). */
  static ran(result: CliResult): string[] {
    return [...result.stdout.matchAll(/^(\S+): running \(/gm)].map((m) => m[1]!);
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.rmSync(`${this.dir}.cache`, { recursive: true, force: true });
  }
}

/**
 * A `project(taskfile)` maker for one test file: each Project it makes is removed after the file's
 * tests (node:test's `after`).
 */
export function projectMaker(after: (fn: () => void) => void): (taskfile: string) => Project {
  const made: Project[] = [];
  after(() => made.forEach((p) => p.remove()));
  return (taskfile) => {
    const p = new Project(taskfile);
    made.push(p);
    return p;
  };
}

export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Resolves when `file` exists (a task announcing it has started), or rejects after `ms`. */
export async function waitForFile(file: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > until) throw new Error(`${file} did not appear within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** True while the process exists and is not a zombie (an orphan's zombie waits for a reaper, which this container's PID 1 may not be). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
