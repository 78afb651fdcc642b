// `--graph`: the targets' DAG in Graphviz DOT, edges from a dependency to its dependent. With the
// build's decisions (what `-n` would run), stale and up-to-date tasks are drawn differently, and
// a stale task's tooltip (a hover in the SVG) says why it would run.
import type { Graph, Node } from './graph.ts';

const quote = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;

/** What the dry run decided for one task: whether it would run, and why (or why not). */
export interface TaskState {
  run: boolean;
  reasons: readonly string[];
}

/**
 * The look of each kind of node. Stale: filled orange, bold outline; up to date: filled pale
 * green, grey text; a group (no work of its own): dashed outline, no fill, whatever its state.
 * The fill colours are what tells them apart in any renderer; the words say it in the legend.
 */
export const nodeStyles = {
  stale: 'style="filled,bold" fillcolor="#ffc880"',
  upToDate: 'style=filled fillcolor="#d8f0d8" fontcolor="#404040" color="#808080"',
  group: 'style=dashed',
} as const;

/** A task that does no work of its own: no run, no commands (it only gathers its dependencies). */
const isGroup = (node: Node) => !node.spec.run && node.commands.length === 0;

export function toDot(graph: Graph, order: readonly string[], states?: ReadonlyMap<string, TaskState>): string {
  // A wider margin than Graphviz's 0.11 inch: it sizes boxes by Helvetica's widths, and the
  // font a viewer or the png's rasteriser finds in its place may be wider.
  const lines = ['digraph tasks {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica,Arial,sans-serif", margin="0.2,0.055"];'];
  if (states !== undefined) lines.push('  // orange, bold: would run (as -n says); pale green: up to date; dashed: a group');
  for (const name of order) {
    const node = graph.nodes.get(name)!;
    const state = states?.get(name);
    let attributes = '';
    if (isGroup(node)) attributes = ` [${nodeStyles.group}]`;
    else if (state?.run === true) attributes = ` [${nodeStyles.stale} tooltip=${quote(`would run: ${state.reasons.join('; ')}`)}]`;
    else if (state?.run === false) attributes = ` [${nodeStyles.upToDate} tooltip="up to date"]`;
    lines.push(`  ${quote(name)}${attributes};`);
  }
  for (const name of order) {
    for (const dep of graph.nodes.get(name)!.deps) lines.push(`  ${quote(dep)} -> ${quote(name)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
