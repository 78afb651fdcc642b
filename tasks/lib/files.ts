// Writing system files the way the recipe needs: whole or not at all, keeping owner and mode.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type writeFileAtomicModule from 'write-file-atomic';

// Loaded when a task first writes, not when the Taskfile loads: a no-op run never writes.
const require = createRequire(import.meta.url);

/**
 * Writes a file through a temporary name in the same folder, fsynced, then renamed over it
 * (write-file-atomic): a reader sees the old file or the new one, never half of one. An
 * existing file's owner and group are kept (/etc/shadow stays root:shadow); `mode` defaults to
 * the old file's mode, else 0644. A symbolic link is replaced by the file, never followed.
 */
export function writeFileAtomic(file: string, text: string | Buffer, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const old = fs.statSync(file, { throwIfNoEntry: false });
  // write-file-atomic writes where a symbolic link points; in a container's root folder that may
  // be the host's own file (etc/hostname -> /etc/hostname). The link is replaced, as rename does.
  if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(file);
  const { sync } = require('write-file-atomic') as typeof writeFileAtomicModule;
  sync(file, text, {
    mode: (mode ?? old?.mode ?? 0o644) & 0o7777,
    chown: old && { uid: old.uid, gid: old.gid },
    fsync: true,
  });
}
