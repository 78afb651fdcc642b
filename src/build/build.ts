// One build: the run's closure walked in dependency order, each task decided (decide-task.ts)
// and, when out of date, handed to the executor (the task executor, or the dry run's). A no-op
// settles every task in the fast path, without the scheduler and its promises; what is left is
// scheduled, at most -j at a time, longest chain first (scheduler.ts).
import type { BuildSummary } from '../report/events.ts';
import { slowBuild, slowBuildMs } from '../report/slow-build.ts';
import { decideTask, isGroup, settleGroup, settleUpToDate, upToDateAtOnce } from './decide-task.ts';
import type { Executor } from './executor.ts';
import type { Run } from './run.ts';
import { schedule } from './scheduler.ts';

export async function build(run: Run, executor: Executor): Promise<BuildSummary> {
  run.summary.groups = run.order.filter((name) => isGroup(run.graph.nodes.get(name)!));
  run.reporter.emit({ type: 'plan', tasks: run.order, groups: run.summary.groups });
  const left = settleWhatIsUpToDate(run, executor);
  const ready = executor.ready && ((name: string) => executor.ready!(run, run.node(name)));
  if (left.length > 0) await schedule(run.graph, left, run.jobs, (name, lane, release) => step(run, executor, name, lane, release), ready);
  // A check called early, for a task that then never started (a failure stopped the build).
  run.checks.closeAll();
  // With a remote cache, waits for the uploads still under way.
  await executor.finish?.(run);
  const { summary } = run;
  summary.wallMs = run.disk.now() - run.started;
  const { timings } = run.timings;
  if (timings.tasks.length > 0 || timings.upToDate) summary.timings = timings;
  if (summary.wallMs >= slowBuildMs && timings.tasks.length > 0) {
    summary.slowBuild = slowBuild(run.order, (task) => run.node(task).deps, timings.tasks, summary.wallMs);
  }
  return summary;
}

/**
 * The no-op fast path: in dependency order, settles every task that is up to date, when its
 * dependencies are all up to date too. Returns the tasks left to schedule: those that may have
 * to run, and their dependents.
 */
function settleWhatIsUpToDate(run: Run, executor: Executor): string[] {
  const left: string[] = [];
  const callChecks = { allowed: true };
  for (const name of run.order) {
    const node = run.node(name);
    if (!node.deps.every((dep) => run.status.get(dep) === 'up-to-date')) {
      left.push(name);
      continue;
    }
    if (isGroup(node)) {
      settleGroup(run, node);
      continue;
    }
    const assessment = upToDateAtOnce(run, node, callChecks);
    if (assessment) settleUpToDate(run, executor, name, assessment);
    else left.push(name);
  }
  return left;
}

/**
 * Decides one scheduled task and executes it if stale, in the -j slot `lane` (timed: timings.ts),
 * which the executor may hand on (`release`) before it has recorded the task.
 * Never rejects (see scheduler.ts): anything unexpected is the task's failure.
 */
async function step(run: Run, executor: Executor, name: string, lane: number, release: () => boolean): Promise<void> {
  try {
    const node = run.node(name);
    const decision = await decideTask(run, node);
    if (decision.kind === 'up-to-date') settleUpToDate(run, executor, name, decision.assessment);
    else if (decision.kind === 'stale') {
      const startMs = run.disk.now();
      // Its time in its lane ends when it hands the lane on, so that a trace's rows never overlap.
      let endMs: number | undefined;
      await executor.execute(run, node, decision, () => {
        endMs = run.disk.now();
        return release();
      });
      run.timings.executed(name, { lane, startMs, endMs: endMs ?? run.disk.now(), status: run.status.get(name), restored: run.summary.restored, parts: decision.parts });
    }
  } catch (error) {
    if (!run.status.has(name)) run.fail(name, error, 0);
  }
}
