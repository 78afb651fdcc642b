// The timings log, `.task/timings.log`, kept across runs as ninja keeps `.ninja_log`: one line per
// task that ran (or was restored from the cache, failed, or was interrupted), appended once per
// build. It grows by a build's lines each time, so it is compacted when it has grown to several
// times its size after the last compaction: the latest line of each task is kept.
//
//     # task timings v1 compacted=BYTES
//     START_MS<TAB>END_MS<TAB>STATUS<TAB>FINGERPRINT<TAB>TASK
//
// START_MS and END_MS are milliseconds since the epoch; STATUS is ran, restored, failed or
// interrupted; FINGERPRINT is 16 hex digits of the digest of the task's fingerprint parts (what
// it ran with), `-` when unknown. A line that does not read so (cut short by a crash, garbage) is
// skipped; the lines around it are kept.
import fs from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

export const timingStatuses = ['ran', 'restored', 'failed', 'interrupted'] as const;
export type TimingStatus = (typeof timingStatuses)[number];

/** One line of the log: a task's run in one build. */
export interface TimingEntry {
  task: string;
  /** Milliseconds since the epoch. */
  startMs: number;
  endMs: number;
  status: TimingStatus;
  /** 16 hex digits of the fingerprint digest; '' when unknown. */
  fingerprint: string;
}

const headerPrefix = '# task timings v1';

/** A compaction rewrites the log once it is this many times its size after the last one (ninja: 3). */
export const compactionRatio = 3;
/** ...and at least this big: a small log is never worth rewriting. */
export const minCompactionBytes = 256 * 1024;

export function formatTimingLine(entry: TimingEntry): string {
  return `${Math.round(entry.startMs)}\t${Math.round(entry.endMs)}\t${entry.status}\t${entry.fingerprint || '-'}\t${entry.task}\n`;
}

/** The entries of a log's text, in order; lines that do not parse are counted in `skipped`. */
export function parseTimingsLog(text: string): { entries: TimingEntry[]; skipped: number; compactedBytes: number } {
  const entries: TimingEntry[] = [];
  let skipped = 0;
  let compactedBytes = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const size = /^# task timings v1 compacted=(\d+)$/.exec(line);
      if (size) compactedBytes = Number(size[1]);
      continue;
    }
    const entry = parseLine(line);
    if (entry) entries.push(entry);
    else skipped++;
  }
  return { entries, skipped, compactedBytes };
}

function parseLine(line: string): TimingEntry | undefined {
  const fields = line.split('\t');
  if (fields.length !== 5) return undefined;
  const [start, end, status, fingerprint, task] = fields as [string, string, string, string, string];
  if (!/^\d+$/.test(start) || !/^\d+$/.test(end) || task === '' || !(timingStatuses as readonly string[]).includes(status)) return undefined;
  if (!/^(-|[0-9a-f]{1,64})$/.test(fingerprint)) return undefined;
  const startMs = Number(start);
  const endMs = Number(end);
  if (endMs < startMs) return undefined;
  return { task, startMs, endMs, status: status as TimingStatus, fingerprint: fingerprint === '-' ? '' : fingerprint };
}

/** The log's entries (none when it does not exist); corrupt lines skipped. */
export function readTimingsLog(file: string): TimingEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseTimingsLog(text).entries;
}

/**
 * Appends a build's entries in one write, then compacts the log if it has grown past
 * `compactionRatio` times its size after the last compaction (and `minBytes`). A last line left
 * without its newline by a crash is ended first, so the new lines are not glued to it. Throws
 * what the file system refuses (the caller warns: the build itself is not at stake).
 */
export function appendTimings(file: string, entries: readonly TimingEntry[], options: { minBytes?: number } = {}): void {
  if (entries.length === 0) return;
  const lines = entries.map(formatTimingLine).join('');
  let size: number;
  let compactedBytes = 0;
  const fd = fs.openSync(file, 'a+');
  try {
    const before = fs.fstatSync(fd).size;
    let prefix = '';
    if (before === 0) prefix = `${headerPrefix} compacted=0\n`;
    else {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, before - 1);
      if (last[0] !== 0x0a) prefix = '\n';
      // The header names the size after the last compaction: only 64 bytes are read to learn it.
      const head = Buffer.alloc(64);
      const read = fs.readSync(fd, head, 0, head.length, 0);
      compactedBytes = Number(/^# task timings v1 compacted=(\d+)\n/.exec(head.subarray(0, read).toString('latin1'))?.[1] ?? 0);
    }
    const text = prefix + lines;
    fs.writeSync(fd, text);
    size = before + Buffer.byteLength(text);
  } finally {
    fs.closeSync(fd);
  }
  if (size > Math.max(options.minBytes ?? minCompactionBytes, compactionRatio * compactedBytes)) compactTimings(file);
}

/**
 * Rewrites the log with the latest entry of each task, in the order they were written, and its
 * new size in the header (written to a temporary name and renamed: a crash leaves the old log).
 */
export function compactTimings(file: string): void {
  const latest = new Map<string, TimingEntry>();
  for (const entry of readTimingsLog(file)) {
    latest.delete(entry.task);
    latest.set(entry.task, entry);
  }
  const body = [...latest.values()].map(formatTimingLine).join('');
  // The size of the lines kept (the header's few bytes aside): the next compaction is at 3 times it.
  writeFileAtomic.sync(file, `${headerPrefix} compacted=${Buffer.byteLength(body)}\n${body}`);
}
