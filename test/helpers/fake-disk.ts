// An in-memory file system with a fake clock (ninja's VirtualFileSystem), for engine unit tests.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Disk, Stat } from '../../src/base/disk.ts';

interface Entry {
  content: string;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export class FakeDisk implements Disk {
  files = new Map<string, Entry>();
  dirs = new Set<string>();
  clock = 1_000_000;
  /** How many times file contents were read, to prove a no-op build reads none. */
  reads = 0;
  #nextIno = 1;

  /** Advances the clock past the racy window, as time passes between builds. */
  tick(ms = 10_000): void {
    this.clock += ms;
  }

  write(file: string, content: string): void {
    const old = this.files.get(file);
    this.files.set(file, { content, mtimeMs: this.clock, ctimeMs: this.clock, ino: old?.ino ?? this.#nextIno++ });
  }

  read(file: string): string | undefined {
    return this.files.get(file)?.content;
  }

  /** Changes a file's mtime and ctime (and nothing else), as `touch` does. */
  touch(file: string): void {
    const old = this.files.get(file);
    if (old) this.files.set(file, { ...old, mtimeMs: this.clock, ctimeMs: this.clock });
  }

  readText(file: string): string | undefined {
    return this.read(file);
  }

  writeText(file: string, text: string): void {
    this.write(file, text);
  }

  mkdir(dir: string): void {
    this.dirs.add(dir);
  }

  stat(file: string): Stat | undefined {
    const entry = this.files.get(file);
    if (entry) return { kind: 'file', size: Buffer.byteLength(entry.content), mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, ino: entry.ino };
    if (this.dirs.has(file) || [...this.files.keys()].some((f) => f.startsWith(`${file}/`))) {
      return { kind: 'dir', size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 };
    }
    return undefined;
  }

  digest(file: string): string {
    this.reads++;
    const entry = this.files.get(file);
    if (!entry) throw new Error(`ENOENT: ${file}`);
    return createHash('sha256').update(entry.content).digest('hex');
  }

  walk(dir: string): string[] {
    return [...this.files.keys()].filter((f) => f.startsWith(`${dir}/`)).sort();
  }

  glob(pattern: string, cwd: string): string[] {
    const regex = new RegExp(
      `^${path
        .resolve(cwd, pattern)
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
    return [...this.files.keys()].filter((f) => regex.test(f)).sort();
  }

  remove(file: string): void {
    this.files.delete(file);
    this.dirs.delete(file);
    for (const f of [...this.files.keys()]) if (f.startsWith(`${file}/`)) this.files.delete(f);
  }

  now(): number {
    return this.clock;
  }
}
