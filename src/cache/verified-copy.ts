// Moving bytes with their digest checked on the way: every blob going into a cache, and every
// blob coming out of one, is hashed as it streams, and a blob whose bytes do not match the
// digest it is stored under is never used.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A blob whose bytes do not match its digest, or that ended early. */
export class CorruptBlob extends Error {}

/** A stream that hashes what goes through it; `digest()` once it has ended. */
export class Hasher extends Transform {
  #hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** A temporary name beside `file`, in the same folder (so that a rename into place is atomic). */
export function besideName(file: string, tag: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${tag}-${randomBytes(6).toString('hex')}`);
}

/**
 * Streams `source` into `file` (through a temporary file renamed into place), hashing it. With
 * `expected`, a digest or size that differs is a CorruptBlob and `file` is not touched.
 */
export async function copyVerified(source: Readable, file: string, options: { expected?: { digest: string; size?: number }; mode?: number; signal?: AbortSignal } = {}): Promise<{ digest: string; size: number }> {
  const temp = besideName(file, 'partial');
  const hasher = new Hasher();
  try {
    await pipeline(source, hasher, fs.createWriteStream(temp, { mode: options.mode ?? 0o644 }), { signal: options.signal });
    const digest = hasher.digest();
    const { expected } = options;
    if (expected && (digest !== expected.digest || (expected.size !== undefined && hasher.size !== expected.size))) {
      throw new CorruptBlob(`blob ${expected.digest.slice(0, 12)} is corrupt: its bytes hash to ${digest.slice(0, 12)} (${hasher.size} bytes)`);
    }
    if (options.mode !== undefined) fs.chmodSync(temp, options.mode);
    fs.renameSync(temp, file);
    return { digest, size: hasher.size };
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Passes every chunk on and writes it to `copy` as well, waiting for `copy` when it is full. */
class Tee extends Transform {
  #copy: Writable;

  constructor(copy: Writable) {
    super();
    this.#copy = copy;
    copy.on('error', (error) => this.destroy(error));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    if (this.#copy.write(chunk)) done(null, chunk);
    else this.#copy.once('drain', () => done(null, chunk));
  }

  override _flush(done: (error?: Error | null) => void): void {
    this.#copy.end(() => done());
  }
}

/**
 * Streams `source` into `sink`, hashing it, and into `copy` too when given (written to its end
 * before this resolves); resolves to what went through.
 */
export async function streamHashed(source: Readable, sink: Writable, signal?: AbortSignal, copy?: Writable): Promise<{ digest: string; size: number }> {
  const hasher = new Hasher();
  if (copy) await pipeline(source, hasher, new Tee(copy), sink, { signal });
  else await pipeline(source, hasher, sink, { signal });
  return { digest: hasher.digest(), size: hasher.size };
}
