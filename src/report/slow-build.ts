// The summary after a slow build: the tasks that took longest, and the critical path, the chain
// of dependencies whose durations (as measured in this run) add up to the most. Its total next to
// the wall time says what bounds the build: close to it, the chain (more -j would not help); far
// below it, the slots (-j) or a pool.
import { formatDuration } from '../base/format.ts';
import type { Paint } from './display.ts';
import type { SlowBuild, TaskTiming } from './events.ts';

/** A build that took at least this long (wall time) ends with the summary: a quick one needs none. */
export const slowBuildMs = 5000;
/** How many of the slowest tasks it names. */
export const slowestShown = 5;

/**
 * Where a build's time went. `order`: the build's tasks, dependencies first; `depsOf`: a task's
 * dependencies. Tasks that did not run (up to date, groups) weigh nothing but still link a chain.
 */
export function slowBuild(order: readonly string[], depsOf: (task: string) => readonly string[], tasks: readonly TaskTiming[], wallMs: number): SlowBuild {
  const durations = new Map<string, number>();
  for (const timing of tasks) durations.set(timing.task, timing.endMs - timing.startMs);
  const slowest = [...durations]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, slowestShown)
    .map(([task, durationMs]) => ({ task, durationMs }));
  // Longest path ending at each task (its duration plus its heaviest dependency's), in dependency order.
  const longest = new Map<string, number>();
  const via = new Map<string, string>();
  let end: string | undefined;
  for (const task of order) {
    let best = 0;
    for (const dep of depsOf(task)) {
      const length = longest.get(dep);
      if (length !== undefined && length > best) {
        best = length;
        via.set(task, dep);
      }
    }
    const total = best + (durations.get(task) ?? 0);
    longest.set(task, total);
    if (end === undefined || total > longest.get(end)!) end = task;
  }
  const criticalPath: SlowBuild['criticalPath'] = [];
  for (let at = end; at !== undefined; at = via.get(at)) {
    const durationMs = durations.get(at);
    if (durationMs !== undefined) criticalPath.unshift({ task: at, durationMs });
  }
  return { wallMs, slowest, criticalPath, criticalPathMs: end === undefined ? 0 : longest.get(end)! };
}

/** The summary's lines, for the plain and live displays (on stderr, after the counts). */
export function slowBuildLines(report: SlowBuild, colours?: Paint): string[] {
  const bold = colours?.bold ?? ((text: string) => text);
  const width = Math.max(...report.slowest.map(({ task }) => task.length));
  const lines = [`task: slowest tasks of this ${formatDuration(report.wallMs)} build:`];
  for (const { task, durationMs } of report.slowest) lines.push(`  ${formatDuration(durationMs).padStart(7)}  ${bold(task.padEnd(width))}`.trimEnd());
  const share = report.wallMs > 0 ? Math.round((100 * report.criticalPathMs) / report.wallMs) : 100;
  lines.push(`task: critical path ${formatDuration(report.criticalPathMs)} of ${formatDuration(report.wallMs)} wall time (${share}%):`);
  lines.push(`  ${report.criticalPath.map(({ task, durationMs }) => `${task} (${formatDuration(durationMs)})`).join(' -> ')}`);
  return lines;
}
