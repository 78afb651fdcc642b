// One definition of "up to date", checked on random builds: for random graphs and random edits
// (an input's content, an mtime alone, a value, an output deleted or edited by hand, the state
// store removed), whenever the no-op shortcut (decide/snapshot.ts) answers "up to date", the full
// decision (decide/freshness.ts, through a dry run) finds every task up to date and a real build
// runs nothing; and after every build the outputs are those a clean build of the same sources
// makes. In memory, on the fake disk with its fake clock.
import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { checkSnapshot, writeSnapshot } from '../src/decide/snapshot.ts';
import { closure } from '../src/graph/graph.ts';
import { statePaths, StateStore } from '../src/state/state.ts';
import type { TaskDef } from '../src/taskfile/registry.ts';
import type { TaskSpec } from '../src/taskfile/types.ts';
import { at, EngineRig, root } from './helpers/engine-rig.ts';

const sources = [0, 1, 2, 3].map((i) => `src/${i}.txt`);
const stateDir = at('.task');

interface TaskPlan {
  /** Bit j: depends on task j (only earlier tasks count). */
  deps: number;
  /** Bit j: reads sources[j]. */
  inputs: number;
  /** Depend on a task by naming its first output as an input (make's implicit dependency), where it has one. */
  viaInput: boolean;
  outputs: number;
  value: number;
}

type Edit =
  | { kind: 'content'; file: number; text: string }
  | { kind: 'touch'; file: number }
  | { kind: 'touch-output' | 'delete-output' | 'edit-output'; task: number }
  | { kind: 'value'; task: number; value: number }
  | { kind: 'remove-state' }
  | { kind: 'none' };

const taskPlan = fc.record({ deps: fc.nat(63), inputs: fc.nat(15), viaInput: fc.boolean(), outputs: fc.integer({ min: 0, max: 2 }), value: fc.nat(2) });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('content' as const), file: fc.nat(3), text: fc.constantFrom('a', 'b', 'ab', 'ba') }),
  fc.record({ kind: fc.constant('touch' as const), file: fc.nat(3) }),
  fc.record({ kind: fc.constantFrom('touch-output' as const, 'delete-output' as const, 'edit-output' as const), task: fc.nat(5) }),
  fc.record({ kind: fc.constant('value' as const), task: fc.nat(5), value: fc.nat(2) }),
  fc.constant({ kind: 'remove-state' as const }),
  fc.constant({ kind: 'none' as const }),
);

const name = (i: number) => `t${i}`;
const outputsOf = (i: number, plan: TaskPlan) => Array.from({ length: plan.outputs }, (_, k) => `out/${i}-${k}.txt`);

/** The specs of a planned graph; each task writes its name, its values and its inputs' contents. */
function specsOf(plans: TaskPlan[]): Map<string, TaskSpec> {
  const specs = new Map<string, TaskSpec>();
  plans.forEach((plan, i) => {
    const deps: string[] = [];
    const inputs = sources.filter((_, j) => plan.inputs & (1 << j));
    for (let j = 0; j < i; j++) {
      if (!(plan.deps & (1 << j))) continue;
      const first = outputsOf(j, plans[j]!)[0];
      if (plan.viaInput && first !== undefined) inputs.push(first);
      else deps.push(name(j));
    }
    specs.set(name(i), { deps, inputs, outputs: outputsOf(i, plan), values: { v: plan.value } });
  });
  return specs;
}

/** A rig whose tasks' outputs say what they were made from, so that outputs can be compared with a clean build's. */
function rigWith(specs: Map<string, TaskSpec>, files: Map<string, string>): EngineRig {
  const rig = new EngineRig();
  for (const [task, spec] of specs) rig.task(task, { ...spec });
  for (const [file, text] of files) rig.disk.write(at(file), text);
  for (const task of specs.keys()) {
    rig.contents.set(task, (disk) => {
      const spec = rig.specs.get(task)!;
      return [task, JSON.stringify(spec.values), ...(spec.inputs ?? []).map((input) => disk.read(at(input)) ?? '')].join('|');
    });
  }
  return rig;
}

const defsOf = (rig: EngineRig) => new Map<string, TaskDef>([...rig.specs].map(([task, spec]) => [task, { name: task, spec }]));

/** As the CLI's build: the build, the store saved when it changed (a new store file), a snapshot after a no-op. */
async function cliBuild(rig: EngineRig, targets: string[]): Promise<string[]> {
  const startedAt = rig.disk.now();
  const { summary, ran, stamps } = await rig.build(targets);
  assert.deepEqual(summary.failed, []);
  if (rig.store.changed || stamps.dirty) {
    rig.disk.write(statePaths(stateDir).store, `saved at ${rig.disk.now()} ${Math.random()}`);
    rig.disk.remove(statePaths(stateDir).snapshots);
    rig.store.changed = false;
  }
  if (summary.upToDate.length === summary.ran.length + summary.upToDate.length && ran.length === 0) {
    const graph = rig.graph();
    const problem = writeSnapshot({ stateDir, targets, tasks: defsOf(rig), graph, order: closure(graph, targets), records: rig.store, disk: rig.disk, stats: new Map(), startedAt });
    assert.equal(problem, undefined, 'a no-op of plain file tasks leaves a snapshot');
  }
  return ran;
}

const stats = { hits: 0, misses: 0, rebuilt: 0 };

test('the no-op shortcut and the full decision agree, and both agree with a clean build', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(taskPlan, { minLength: 1, maxLength: 6 }), fc.array(edit, { maxLength: 8 }), async (plans, edits) => {
      const files = new Map(sources.map((file, i) => [file, `source ${i}`]));
      const rig = rigWith(specsOf(plans), files);
      const targets = [...rig.specs.keys()];
      await cliBuild(rig, targets);
      // Time passes between builds: every file is past the racy window.
      rig.disk.tick();
      await cliBuild(rig, targets);
      for (const change of [...edits, { kind: 'none' } as const]) {
        rig.disk.tick();
        apply(rig, change, files, plans);
        rig.disk.tick();
        const verdict = checkSnapshot({ stateDir, root, targets, tasks: defsOf(rig), disk: rig.disk });
        const dry = await rig.build(targets, { dryRun: true });
        if ('upToDate' in verdict) {
          stats.hits++;
          assert.deepEqual(dry.summary.wouldRun, [], `the shortcut said up to date after ${JSON.stringify(change)}; the decision did not`);
          assert.deepEqual(await cliBuild(rig, targets), [], 'a build after the shortcut said up to date runs nothing');
        } else {
          stats.misses++;
          const ran = await cliBuild(rig, targets);
          if (ran.length > 0) stats.rebuilt++;
          // The dry run named every task the build then ran (and maybe more: it cannot know that a
          // rerun will write its outputs as they were, which stops its dependents, the early cutoff).
          assert.deepEqual(ran.filter((task) => !dry.summary.wouldRun.includes(task)), [], 'ran, though the dry run said up to date');
        }
        const clean = rigWith(new Map([...rig.specs].map(([task, spec]) => [task, { ...spec }])), files);
        await clean.build(targets);
        for (const [file, entry] of clean.disk.files) assert.equal(rig.disk.read(file), entry.content, `${file} differs from a clean build's`);
      }
    }),
    { numRuns: 150 },
  );
  // Not vacuous: the shortcut answered, missed, and missed where tasks had to run.
  assert.ok(stats.hits > 0 && stats.misses > 0 && stats.rebuilt > 0, JSON.stringify(stats));
});

function apply(rig: EngineRig, change: Edit, files: Map<string, string>, plans: TaskPlan[]): void {
  const outputOf = (task: number) => {
    const i = task % plans.length;
    const first = outputsOf(i, plans[i]!)[0];
    return first === undefined ? undefined : at(first);
  };
  switch (change.kind) {
    case 'content':
      files.set(sources[change.file]!, change.text);
      rig.disk.write(at(sources[change.file]!), change.text);
      return;
    case 'touch':
      rig.disk.touch(at(sources[change.file]!));
      return;
    case 'touch-output': {
      const out = outputOf(change.task);
      if (out) rig.disk.touch(out);
      return;
    }
    case 'delete-output': {
      const out = outputOf(change.task);
      if (out) rig.disk.remove(out);
      return;
    }
    case 'edit-output': {
      const out = outputOf(change.task);
      if (out) rig.disk.write(out, 'edited by hand');
      return;
    }
    case 'value': {
      const spec = rig.specs.get(name(change.task % plans.length))!;
      spec.values = { v: change.value };
      return;
    }
    case 'remove-state':
      rig.store = new StateStore();
      rig.disk.remove(statePaths(stateDir).store);
      return;
    case 'none':
      return;
  }
}
