// One run at a time per state folder: `.task/lock` holds the pid of the run that owns it.
// Hand-written because none of the lock libraries record a holder's pid to name in the message,
// and a lock whose pid is gone (a killed run) must be taken over.
import fs from 'node:fs';
import { StateError } from './errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws a StateError naming the holder's pid. Returns the release function. */
export function acquireLock(lockPath: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written aside, then linked into place: the lock never exists without its pid in it.
    const aside = `${lockPath}.${process.pid}`;
    try {
      fs.writeFileSync(aside, `${process.pid}\n`);
      fs.linkSync(aside, lockPath);
      fs.rmSync(aside, { force: true });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(lockPath, { force: true });
      };
    } catch (error) {
      fs.rmSync(aside, { force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StateError(`cannot create the lock ${lockPath}: ${(error as Error).message}`);
    }
    const holder = Number.parseInt(readOrEmpty(lockPath), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new StateError(`another task run (pid ${holder}) is building in this folder; wait for it to finish or stop it (lock: ${lockPath})`);
    }
    // The holder is gone (killed, crashed) or the file is half-written: take the lock over.
    fs.rmSync(lockPath, { force: true });
  }
  throw new StateError(`cannot take the lock ${lockPath}: another run keeps taking it`);
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
