// The disk seam (ninja's DiskInterface): everything the engine asks of the file system.
// Tests swap in an in-memory disk; the real one is synchronous because a no-op build is
// thousands of stats, and sync stats are cheaper than promises.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { asFileError, FileError } from './errors.ts';

const require = createRequire(import.meta.url);
const requireGlob = (): typeof import('tinyglobby') => require('tinyglobby');
// Loaded on the first digest: a no-op that only stats never needs node:crypto.
const createHash: typeof import('node:crypto').createHash = (...args) => (require('node:crypto') as typeof import('node:crypto')).createHash(...args);

/** What the engine needs of a stat. */
export interface Stat {
  kind: 'file' | 'dir' | 'other';
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export interface Disk {
  /** The stat of a path (following symlinks), or undefined when it does not exist. */
  stat(file: string): Stat | undefined;
  /** sha256 of a file's contents, hex. */
  digest(file: string): string;
  /** Every file under a folder, recursively, as absolute paths. */
  walk(dir: string): string[];
  /** Files matching a glob pattern relative to `cwd`, as absolute paths, sorted. */
  glob(pattern: string, cwd: string): string[];
  /** Removes a file or folder tree; no error if it is missing. */
  remove(file: string): void;
  /** A small file's text, or undefined when it cannot be read (the engine's own files, such as a snapshot). */
  readText(file: string): string | undefined;
  /** Replaces a file whole (written aside, then renamed), making its folder: a reader sees the old text or the new. */
  writeText(file: string, text: string): void;
  /** Milliseconds since the epoch, from the disk's clock. */
  now(): number;
}

/**
 * A stat, or why it was refused (a file this user may not stat: a snapshot taken by root). The
 * no-op shortcuts then miss and say why; the build that follows decides, and reports it its way.
 */
export function statOrRefusal(disk: Disk, file: string): { stat: Stat | undefined } | { refused: string } {
  try {
    return { stat: disk.stat(file) };
  } catch (error) {
    if (error instanceof FileError) return { refused: error.message };
    throw error;
  }
}

function toStat(s: fs.Stats): Stat {
  return {
    kind: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other',
    size: s.size,
    mtimeMs: s.mtimeMs,
    ctimeMs: s.ctimeMs,
    ino: s.ino,
  };
}

/**
 * The real file system. What it cannot do (a folder the user may not enter, an unreadable file,
 * an I/O error) is a FileError naming the path: a one-line message, never a stack trace.
 */
export const realDisk: Disk = {
  stat(file) {
    try {
      const s = fs.statSync(file, { throwIfNoEntry: false });
      return s ? toStat(s) : undefined;
    } catch (error) {
      // A path through a file (ENOTDIR) does not exist, as for ENOENT; anything else is a failure.
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw asFileError(error);
    }
  },
  digest(file) {
    try {
      return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    } catch (error) {
      throw asFileError(error);
    }
  },
  walk(dir) {
    const files: string[] = [];
    try {
      for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
        // A link to a file counts as the file it points to (stat, and the digest, follow it).
        if (entry.isFile() || (entry.isSymbolicLink() && fs.statSync(file, { throwIfNoEntry: false })?.isFile())) files.push(file);
      }
    } catch (error) {
      throw asFileError(error);
    }
    return files.sort();
  },
  glob(pattern, cwd) {
    // Loaded here only: most builds name their inputs and never glob.
    try {
      return requireGlob().globSync(pattern, { cwd, absolute: true, onlyFiles: true, dot: true }).sort();
    } catch (error) {
      throw asFileError(error);
    }
  },
  remove(file) {
    try {
      fs.rmSync(file, { recursive: true, force: true });
    } catch (error) {
      throw asFileError(error);
    }
  },
  readText(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  writeText(file, text) {
    const aside = `${file}.${process.pid}`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(aside, text);
      fs.renameSync(aside, file);
    } catch (error) {
      fs.rmSync(aside, { force: true });
      throw asFileError(error);
    }
  },
  now: () => Date.now(),
};

/**
 * A disk whose stats are remembered until `forget()`: an output checked for its producer is
 * stat'ed again as its dependents' input. The build forgets everything whenever a task has run,
 * since a command may write any file. `stats` is the cache itself, for a caller that reads it after.
 */
export function withStatCache(disk: Disk, stats = new Map<string, Stat | undefined>()): Disk & { forget(): void } {
  return {
    digest: (file) => disk.digest(file),
    walk: (dir) => disk.walk(dir),
    glob: (pattern, cwd) => disk.glob(pattern, cwd),
    remove: (file) => disk.remove(file),
    readText: (file) => disk.readText(file),
    writeText: (file, text) => disk.writeText(file, text),
    now: () => disk.now(),
    stat(file) {
      if (stats.has(file)) return stats.get(file);
      const stat = disk.stat(file);
      stats.set(file, stat);
      return stat;
    },
    forget: () => stats.clear(),
  };
}
