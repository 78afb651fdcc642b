// Runs the `task` CLI's main() in this process, on a Project's folder: no Node start, no jiti
// start, no bundle check a run, so tests that run the CLI dozens of times take a fraction of the
// time. The disk's clock can run ahead of real time, which stands for time having passed since
// the files were written (the racy window, one second, is then behind them without a sleep).
import { Writable } from 'node:stream';
import { createJiti } from 'jiti';
import { realDisk, type Disk } from '../../src/base/disk.ts';
import { main } from '../../src/cli/main.ts';
import type { CliResult, Project } from './cli-rig.ts';

class Collected extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The real disk with its clock `ms` ahead: what was written just now looks that old. */
export function diskAhead(ms: number): Disk {
  return { ...realDisk, now: () => Date.now() + ms };
}

/** Runs `task ARGS` in the project's folder, in-process; the Taskfile is loaded afresh each run (it may have been edited). */
export async function runInProcess(project: Project, args: string[], disk: Disk = diskAhead(5000)): Promise<CliResult> {
  const stdout = new Collected();
  const stderr = new Collected();
  const jiti = createJiti(import.meta.url, { moduleCache: false });
  const cwd = process.cwd();
  try {
    const code = await main(args, { importModule: (file) => jiti.import(file), cwd: project.dir, stdout, stderr, disk });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(cwd);
  }
}
