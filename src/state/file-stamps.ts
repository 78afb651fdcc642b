// Content digests of input files, cached by (size, mtime, ctime, inode) as git's index does,
// so a no-op build stats files but does not read them.
import type { Disk, Stat } from '../base/disk.ts';

/** A cached digest and the stat it was taken at. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  digest: string;
}

/**
 * Whether a file is as it was when stamped: what a cached digest is trusted by, and so what the
 * no-op snapshot compares too (one rule for "this file has not changed").
 */
export function sameStamp(stamp: Pick<FileStamp, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>, stat: Stat): boolean {
  return stamp.size === stat.size && stamp.mtimeMs === stat.mtimeMs && stamp.ctimeMs === stat.ctimeMs && stamp.ino === stat.ino;
}

/** A file modified this close to when it was hashed may change again within the same mtime tick. */
export const racyWindowMs = 1000;

export class FileStamps {
  #stamps: Map<string, FileStamp>;
  /**
   * Digests of files too recently modified to be cached on disk, kept for the rest of this run
   * only: an output hashed when its task finished is an input of the tasks after it, and
   * reading it again for each of them would find the same bytes.
   */
  #thisRun = new Map<string, FileStamp>();
  #disk: Disk;
  dirty = false;

  /** `stamps` is the store's cache, updated in place so that saving the store saves it. */
  constructor(disk: Disk, stamps: Map<string, FileStamp> = new Map()) {
    this.#disk = disk;
    this.#stamps = stamps;
  }

  /** The file's digest; reads it only when its stat differs from the cached one. */
  digest(file: string, stat: Stat): string {
    const cached = this.#stamps.get(file) ?? this.#thisRun.get(file);
    if (cached && sameStamp(cached, stat)) return cached.digest;
    const digest = this.#disk.digest(file);
    const stamp = { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, digest };
    if (this.#disk.now() - stat.mtimeMs > racyWindowMs) {
      this.#stamps.set(file, stamp);
      this.#thisRun.delete(file);
      this.dirty = true;
    } else {
      this.#thisRun.set(file, stamp);
      if (this.#stamps.delete(file)) this.dirty = true;
    }
    return digest;
  }
}
