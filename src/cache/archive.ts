// A folder output (a rootfs) as one archive, with the system's GNU tar: it keeps owners (by
// number, so the host's user names do not matter), modes, symlinks, hard links, device nodes,
// extended attributes (file capabilities live there) and ACLs. Streamed: nothing holds the whole
// archive in memory.
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

const keep = ['--xattrs', "--xattrs-include=*", '--acls', '--numeric-owner', '--sparse'];

/** A running tar: its stream, and a promise that rejects when tar fails (with its last error line). */
export interface TarProcess<S> {
  stream: S;
  done: Promise<void>;
  kill(): void;
}

function tar<S>(args: string[], stdio: 'in' | 'out'): TarProcess<S> {
  const child = spawn('tar', args, { stdio: [stdio === 'in' ? 'pipe' : 'ignore', stdio === 'out' ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`cannot start tar: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`tar ${signal ? `was killed by ${signal}` : `exited ${code}`}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
  const stream = (stdio === 'in' ? child.stdin : child.stdout) as S;
  return { stream, done, kill: () => child.kill('SIGKILL') };
}

/** Archives the folder's contents (and the folder's own owner and mode, as `.`), to the stream. */
export function packFolder(dir: string): TarProcess<Readable> {
  return tar<Readable>(['--create', '--file=-', ...keep, '--format=posix', `--directory=${dir}`, '.'], 'out');
}

/** Unpacks an archive from packFolder into an empty folder, as it was (owners too, when root). */
export function unpackInto(dir: string): TarProcess<Writable> {
  const owners = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
  // --ignore-zeros: tar reads to the end of its input instead of stopping at the end-of-archive
  // blocks, so the blob's last bytes (the record padding) still reach the digest check, and the
  // writer never meets a closed pipe.
  return tar<Writable>(['--extract', '--file=-', '--ignore-zeros', ...keep, '--preserve-permissions', ...owners, `--directory=${dir}`], 'in');
}
