// Runs the whole engine in memory: a FakeDisk, a fake runner that "runs" a task by writing its
// outputs, and a reporter that records events. Tests read "build, tick, edit, build again, assert what ran".
import path from 'node:path';
import { build } from '../../src/build/build.ts';
import { TaskExecutor, type TaskRunner } from '../../src/build/execute.ts';
import { DryRunExecutor } from '../../src/build/executor.ts';
import { Run } from '../../src/build/run.ts';
import type { BuildEvent, BuildSummary, Reporter } from '../../src/report/events.ts';
import { FileStamps } from '../../src/state/file-stamps.ts';
import { describeReason } from '../../src/decide/freshness.ts';
import { buildGraph, closure, type Graph } from '../../src/graph/graph.ts';
import type { TaskDef } from '../../src/taskfile/registry.ts';
import { StateStore } from '../../src/state/state.ts';
import type { TaskSpec } from '../../src/taskfile/types.ts';
import { FakeDisk } from './fake-disk.ts';

export const root = '/project';
export const at = (file: string) => path.join(root, file);

export class RecordingReporter implements Reporter {
  events: BuildEvent[] = [];
  emit(event: BuildEvent): void {
    this.events.push(event);
  }
  async finish(): Promise<void> {}
  /** "task: reason; reason" for every task that started or would run. */
  reasons(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.events) {
      if (e.type === 'start' || e.type === 'would-run') out[e.task] = e.reasons.map(describeReason).join('; ');
    }
    return out;
  }
}

export interface RigBuild {
  summary: BuildSummary;
  reporter: RecordingReporter;
  /** Tasks whose work ran, in the order they started. */
  ran: string[];
  /** The build's digest cache (dirty: it must be saved). */
  stamps: FileStamps;
}

export class EngineRig {
  disk = new FakeDisk();
  store = new StateStore();
  specs = new Map<string, TaskSpec>();
  /** What a task writes to each of its outputs; by default its name and the contents of its inputs. */
  contents = new Map<string, (disk: FakeDisk) => string>();
  /** Tasks whose fake run fails. */
  failing = new Set<string>();
  /** Tasks whose fake run does not create its outputs. */
  lazy = new Set<string>();

  task(name: string, spec: TaskSpec): void {
    this.specs.set(name, { run: async () => {}, ...spec });
  }

  graph(): Graph {
    const defs = new Map<string, TaskDef>([...this.specs].map(([name, spec]) => [name, { name, spec }]));
    return buildGraph(defs, root);
  }

  async build(targets: string[], options: { dryRun?: boolean; keepGoing?: boolean; forced?: string[]; jobs?: number; runner?: TaskRunner } = {}): Promise<RigBuild> {
    const graph = this.graph();
    const reporter = new RecordingReporter();
    const stamps = new FileStamps(this.disk, this.store.files);
    const ran: string[] = [];
    const runner: TaskRunner =
      options.runner ??
      (async (node) => {
        ran.push(node.name);
        await Promise.resolve();
        if (this.failing.has(node.name)) throw new Error(`${node.name} failed on purpose`);
        if (this.lazy.has(node.name)) return;
        const content = this.contents.get(node.name)?.(this.disk) ?? defaultContent(node.name, node.inputs, this.disk);
        for (const out of node.outputs) this.disk.write(out, content);
      });
    const run = new Run({
      graph,
      order: closure(graph, targets),
      disk: this.disk,
      store: this.store,
      stamps,
      stateDir: '/nonexistent/.task',
      reporter,
      jobs: options.jobs ?? 4,
      keepGoing: options.keepGoing ?? false,
      forced: new Set(options.forced ?? []),
      signal: new AbortController().signal,
    });
    const summary = await build(run, options.dryRun ? new DryRunExecutor() : new TaskExecutor({ runner }));
    return { summary, reporter, ran, stamps };
  }
}

function defaultContent(name: string, inputs: string[], disk: FakeDisk): string {
  return [name, ...inputs.map((input) => disk.read(path.resolve(root, input)) ?? '')].join('\n');
}
