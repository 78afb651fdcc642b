// `--trace FILE`: the build as Chrome's trace-event JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open. Each task that ran is a complete event ("ph": "X") in the row of the -j
// slot it ran in, so tasks that ran at the same time sit in separate rows; tasks restored from the
// cache are in category `restored`, failures in `failed`; tasks found up to date are instant
// events ("ph": "i") in a row of their own. Times are microseconds from the build's start.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../base/errors.ts';
import type { BuildTimings } from './events.ts';

/** The process id in the trace: one build is one process. */
const pid = 1;
/** The row of up-to-date decisions; slot n (from 0) is row n + 1. */
const decisionsRow = 0;

type TraceEvent = Record<string, string | number | Record<string, string | number>>;

export function traceEvents(timings: BuildTimings): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const us = (ms: number) => Math.round((ms - timings.startMs) * 1000);
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid, tid: decisionsRow, args: { name: 'task' } }];
  const lanes = [...new Set(timings.tasks.map((t) => t.lane))].sort((a, b) => a - b);
  for (const lane of lanes) {
    events.push({ name: 'thread_name', ph: 'M', pid, tid: lane + 1, args: { name: `slot ${lane + 1}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid, tid: lane + 1, args: { sort_index: lane + 1 } });
  }
  if (timings.upToDate && timings.upToDate.length > 0) {
    events.push({ name: 'thread_name', ph: 'M', pid, tid: decisionsRow, args: { name: 'up to date' } });
  }
  for (const t of timings.tasks) {
    const args: Record<string, string> = { status: t.status };
    if (t.fingerprint) args.fingerprint = t.fingerprint;
    events.push({ name: t.task, cat: t.status, ph: 'X', ts: us(t.startMs), dur: Math.max(0, Math.round((t.endMs - t.startMs) * 1000)), pid, tid: t.lane + 1, args });
  }
  for (const { task, atMs } of timings.upToDate ?? []) {
    events.push({ name: task, cat: 'up-to-date', ph: 'i', s: 't', ts: us(atMs), pid, tid: decisionsRow });
  }
  return { traceEvents: events, displayTimeUnit: 'ms' };
}

/**
 * Before anything runs: the trace's folder exists and may be written, and FILE is not a folder.
 * Otherwise a usage error (exit 2), so that a long build does not end unable to save its trace.
 */
export function checkTraceFile(file: string): void {
  const folder = path.dirname(file);
  const problem = (why: string) => new UsageError(`--trace ${file}: ${why}`);
  const stat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw problem(`no folder ${folder}`);
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch {
    throw problem(`the folder ${folder} may not be written`);
  }
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw problem('is a folder');
  if (existing) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      throw problem('may not be written');
    }
  }
}

/** Writes the trace (replacing FILE: under --watch, the latest build's). */
export function writeTrace(file: string, timings: BuildTimings): void {
  fs.writeFileSync(file, `${JSON.stringify(traceEvents(timings))}\n`);
}
