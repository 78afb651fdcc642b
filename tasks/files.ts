// Writing system files the way the recipe needs: whole or not at all, keeping owner and mode.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a file through a temporary name in the same folder, fsynced, then renamed over it: a
 * reader sees the old file or the new one, never half of one. An existing file's owner and
 * group are kept (/etc/shadow stays root:shadow); `mode` defaults to the old file's mode.
 */
export function writeFileAtomic(file: string, text: string | Buffer, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const old = fs.statSync(file, { throwIfNoEntry: false });
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    const fd = fs.openSync(temporary, 'w', mode ?? old?.mode ?? 0o644);
    try {
      fs.writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.chmodSync(temporary, (mode ?? old?.mode ?? 0o644) & 0o7777);
    if (old) fs.chownSync(temporary, old.uid, old.gid);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
