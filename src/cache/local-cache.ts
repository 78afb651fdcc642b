// The local cache: a folder of blobs named by their sha256 (`cas/`) and task results named by
// their action key (`ac/`), the same layout as Bazel's HTTP cache. Least recently used entries go
// first when it grows past its size limit: a hit touches the entry's mtime.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseActionResult, type ActionResult } from './action-result.ts';
import { besideName, copyVerified } from './verified-copy.ts';
import { defaultSizeLimit } from './settings.ts';


/** A blob being written: see LocalCache.beginBlob. */
export interface PendingBlob {
  stream: Writable;
  commit(size: number): void;
  discard(): void;
}

export class LocalCache {
  readonly dir: string;
  readonly sizeLimit: number;
  #added = 0;

  constructor(dir: string, sizeLimit = defaultSizeLimit) {
    this.dir = dir;
    this.sizeLimit = sizeLimit;
    fs.mkdirSync(path.join(dir, 'cas'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'ac'), { recursive: true });
  }

  blobPath(digest: string): string {
    return path.join(this.dir, 'cas', digest);
  }

  #actionPath(key: string): string {
    return path.join(this.dir, 'ac', key);
  }

  /** The task result stored under a key, or undefined (absent, or not a result this version reads). */
  readAction(key: string): ActionResult | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.#actionPath(key));
    } catch {
      return undefined;
    }
    touch(this.#actionPath(key));
    return parseActionResult(bytes);
  }

  /** Whether a result is stored under the key (not read, not touched). */
  hasAction(key: string): boolean {
    return fs.existsSync(this.#actionPath(key));
  }

  writeAction(key: string, result: ActionResult): void {
    const file = this.#actionPath(key);
    const temp = besideName(file, 'partial');
    fs.writeFileSync(temp, JSON.stringify(result));
    fs.renameSync(temp, file);
    this.#added += 1;
  }

  /** True when the blob is here (its bytes are checked when it is read). */
  hasBlob(digest: string, size: number): boolean {
    const stat = fs.statSync(this.blobPath(digest), { throwIfNoEntry: false });
    return stat?.size === size;
  }

  /** Stores a stream's bytes as a blob; with `expected`, bytes that do not match are refused (CorruptBlob). */
  async addBlob(source: Readable, expected?: { digest: string; size?: number }, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
    if (expected?.size !== undefined && this.hasBlob(expected.digest, expected.size)) {
      source.destroy();
      touch(this.blobPath(expected.digest));
      return { digest: expected.digest, size: expected.size };
    }
    // Streamed to a temporary name, then renamed to its digest once that is known.
    const temp = besideName(path.join(this.dir, 'cas', 'blob'), 'adding');
    try {
      const added = await copyVerified(source, temp, { expected, signal, mode: 0o444 });
      fs.renameSync(temp, this.blobPath(added.digest));
      this.#added += added.size;
      return added;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  /**
   * A blob written by its caller while the same bytes go elsewhere too (a folder unpacked straight
   * from its download): `commit` once the caller has checked the digest, `discard` otherwise.
   */
  beginBlob(digest: string): PendingBlob {
    const temp = besideName(path.join(this.dir, 'cas', 'blob'), 'adding');
    const stream = fs.createWriteStream(temp, { mode: 0o444 });
    return {
      stream,
      commit: (size) => {
        fs.renameSync(temp, this.blobPath(digest));
        this.#added += size;
      },
      discard: () => {
        stream.destroy();
        fs.rmSync(temp, { force: true });
      },
    };
  }

  /** Opens a blob for reading (its digest is checked by whoever reads it), touching it for LRU. */
  openBlob(digest: string): Readable {
    touch(this.blobPath(digest));
    return fs.createReadStream(this.blobPath(digest));
  }

  /** Removes a blob found corrupt, so that the next build fetches or builds it again. */
  dropBlob(digest: string): void {
    fs.rmSync(this.blobPath(digest), { force: true });
  }

  /**
   * When something was added, trims the cache to 90% of its limit, least recently used first.
   * Returns the bytes removed.
   */
  evict(): number {
    if (this.#added === 0) return 0;
    this.#added = 0;
    const entries: Array<{ file: string; size: number; used: number }> = [];
    let total = 0;
    for (const sub of ['cas', 'ac']) {
      const folder = path.join(this.dir, sub);
      for (const name of fs.readdirSync(folder)) {
        const stat = fs.statSync(path.join(folder, name), { throwIfNoEntry: false });
        if (!stat?.isFile()) continue;
        entries.push({ file: path.join(folder, name), size: stat.size, used: stat.mtimeMs });
        total += stat.size;
      }
    }
    if (total <= this.sizeLimit) return 0;
    entries.sort((a, b) => a.used - b.used);
    let removed = 0;
    for (const entry of entries) {
      if (total - removed <= this.sizeLimit * 0.9) break;
      fs.rmSync(entry.file, { force: true });
      removed += entry.size;
    }
    return removed;
  }
}

/** Marks an entry used now (its mtime: atime is often not kept, relatime or noatime). */
function touch(file: string): void {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
  } catch {
    // A read-only cache folder still serves hits; it just ages by write time.
  }
}
