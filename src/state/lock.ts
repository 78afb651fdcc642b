// One run at a time per state folder: `.task/lock` holds the pid of the run that owns it.
// Hand-written because none of the lock libraries record a holder's pid to name in the message,
// and a lock whose pid is gone (a killed run) must be taken over.
import fs from 'node:fs';
import { StateError } from '../base/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `file` holding our pid, atomically (written aside, then linked): false if it exists. */
function createWithPid(file: string): boolean {
  const aside = `${file}.${process.pid}`;
  try {
    fs.writeFileSync(aside, `${process.pid}\n`);
    fs.linkSync(aside, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateError(`cannot create the lock ${file}: ${(error as Error).message}`);
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Takes the lock or throws a StateError naming the holder's pid. A dead holder's lock is taken
 * over under a second lock (`lock.takeover`), so that two runs finding the same dead pid cannot
 * both remove the lock and both go on. Returns the release function.
 */
export function acquireLock(lockPath: string): () => void {
  const takeover = `${lockPath}.takeover`;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createWithPid(lockPath)) {
      let released = false;
      return () => {
        if (!released) fs.rmSync(lockPath, { force: true });
        released = true;
      };
    }
    const holder = holderOf(lockPath);
    if (holder !== undefined && holder !== process.pid && alive(holder)) {
      throw new StateError(`another task run (pid ${holder}) is building in this folder; wait for it to finish or stop it (lock: ${lockPath})`);
    }
    if (createWithPid(takeover)) {
      try {
        // Still the same dead (or unreadable) holder now that we alone may take it over?
        const again = holderOf(lockPath);
        if (again === holder || (again !== undefined && !alive(again))) fs.rmSync(lockPath, { force: true });
      } finally {
        fs.rmSync(takeover, { force: true });
      }
    } else {
      const taker = holderOf(takeover);
      if (taker === undefined || !alive(taker)) fs.rmSync(takeover, { force: true });
      else sleep(10);
    }
  }
  throw new StateError(`cannot take the lock ${lockPath}: other runs keep taking it`);
}
