// The decision for one task of a run, once its dependencies are settled: skipped or not started
// (a dependency failed, or the build stops), a group, up to date, or stale with its reasons.
// The rules are decide/freshness.ts's; this file gathers what they compare from the run.
import { InputNotBuiltYet } from '../base/errors.ts';
import { sha256 } from '../base/digest.ts';
import { canonicalJson, discoveredDigests, ownParts } from '../decide/fingerprint.ts';
import { answersAtOnce, checkSetting } from '../decide/early-check.ts';
import { assess, assessWithoutCheck, type Assessment, type AssessOptions } from '../decide/freshness.ts';
import type { Node } from '../graph/graph.ts';
import type { Executor, Stale } from './executor.ts';
import type { Run } from './run.ts';
import { isGroup as isGroupSpec } from '../taskfile/group.ts';

export type Decision = { kind: 'settled' } | { kind: 'up-to-date'; assessment: Assessment } | ({ kind: 'stale' } & Stale);

/** A group does nothing of its own: no run, command, check, values, inputs or outputs (src/taskfile/group.ts). */
export const isGroup = (node: Node) => isGroupSpec(node.spec);

/**
 * A group passes its dependencies' results on, and is never itself work to do (so `-q` and the
 * summary count only real tasks).
 */
export function settleGroup(run: Run, node: Node): void {
  run.results.set(node.name, sha256(canonicalJson(Object.fromEntries(run.depResults(node)))));
  // Up to date for its dependents, but not counted among the up to date (summary.groups lists it).
  run.status.set(node.name, 'up-to-date');
  run.reporter.emit({ type: 'up-to-date', task: node.name, group: true });
}

/** Everything the up-to-date rules compare, for a task whose dependencies are settled. */
export function assessOptions(run: Run, node: Node): Omit<AssessOptions, 'callCheck'> {
  const record = run.store.get(node.name);
  // The inputs its last run discovered, digested afresh (a header gone is '', not an error).
  const discovered = discoveredDigests(record?.parts.discovered, run.graph.root, run.disk, run.stamps);
  return {
    node,
    root: run.graph.root,
    disk: run.disk,
    parts: { ...ownParts(node, run.graph, run.disk, run.stamps), ...(discovered ? { discovered } : {}), deps: run.depResults(node) },
    record,
    forced: run.forced.has(node.name),
    depsRanNow: run.ranNow,
  };
}

/** Settles an up-to-date task; outputs touched but byte-identical keep their new mtimes as the executor allows. */
export function settleUpToDate(run: Run, executor: Executor, name: string, assessment: Assessment): void {
  const record = run.store.get(name)!;
  if (assessment.refreshedOutputs) executor.refresh(run, name, assessment.refreshedOutputs);
  run.results.set(name, record.result);
  run.settle(name, 'up-to-date');
  run.reporter.emit({ type: 'up-to-date', task: name });
}

/** Decides a task whose dependencies are settled; what it settles itself (skips, groups, failures) is 'settled'. */
export async function decideTask(run: Run, node: Node): Promise<Decision> {
  const { name } = node;
  const { status, signal } = run;
  const brokenDep = node.deps.find((dep) => {
    const s = status.get(dep);
    return s === 'failed' || s === 'skipped' || s === 'not-started' || s === 'interrupted';
  });
  if (brokenDep !== undefined && run.keepGoing && !signal.aborted) {
    status.set(name, 'skipped');
    const dependency = status.get(brokenDep) === 'skipped' ? run.summary.skipped.find((s) => s.task === brokenDep)?.dependency ?? brokenDep : brokenDep;
    run.summary.skipped.push({ task: name, dependency });
    run.reporter.emit({ type: 'skipped', task: name, dependency });
    return { kind: 'settled' };
  }
  if (brokenDep !== undefined || run.stopping || signal.aborted) {
    run.settle(name, 'not-started');
    return { kind: 'settled' };
  }
  if (isGroup(node)) {
    settleGroup(run, node);
    return { kind: 'settled' };
  }
  const begun = Date.now();
  let assessment: Assessment;
  try {
    const called = run.checks.get(name);
    const own = !called && node.spec.check ? checkSetting(name, node.spec, { root: run.graph.root, stateDir: run.stateDir, signal }) : undefined;
    assessment = await assess({ ...assessOptions(run, node), callCheck: called?.outcome ?? (() => own && node.spec.check?.(own.context)) });
    (called ?? own)?.log.close();
  } catch (error) {
    // A dry run on a fresh tree: the input will exist once the dependency that would run has run.
    if (error instanceof InputNotBuiltYet && run.ranNow.get(error.producer) === 'would-run') {
      return { kind: 'stale', reasons: [{ kind: 'dep-ran', dep: error.producer, dryRun: true }], parts: undefined };
    }
    run.fail(name, error, Date.now() - begun);
    return { kind: 'settled' };
  }
  // Interrupted while checking: nothing is known, and nothing recorded may be lost.
  if (signal.aborted) {
    run.settle(name, 'not-started');
    return { kind: 'settled' };
  }
  if (assessment.reasons.length === 0 && run.store.get(name)) return { kind: 'up-to-date', assessment };
  return { kind: 'stale', reasons: assessment.reasons, parts: assessment.parts };
}

/**
 * Whether a task is up to date without waiting for anything: rules 1, 2, 3 and 5, and its check
 * when that answers at once (an `async` check is left to the scheduler, which runs at most -j of
 * them at a time). `callChecks` false: calling checks early stopped (a plain check answered with
 * a promise). Returns the assessment when up to date, undefined otherwise (a missing input too:
 * the scheduled decision reports it, as a failure of the task).
 */
export function upToDateAtOnce(run: Run, node: Node, callChecks: { allowed: boolean }): Assessment | undefined {
  let assessment: Assessment;
  try {
    assessment = assessWithoutCheck(assessOptions(run, node));
  } catch {
    return undefined;
  }
  if (assessment.reasons.length > 0 || !run.store.get(node.name)) return undefined;
  const { check } = node.spec;
  if (!check) return assessment;
  let called = run.checks.get(node.name);
  if (!called) {
    if (!callChecks.allowed || !answersAtOnce(check)) return undefined;
    called = run.checks.ask(node.name, node.spec, { root: run.graph.root, stateDir: run.stateDir, signal: run.signal });
  }
  if (called.promised) callChecks.allowed = false;
  if (!called.upToDate) return undefined;
  run.checks.done(node.name);
  return assessment;
}
