// `--graph`: the targets' DAG in Graphviz DOT, edges from a dependency to its dependent.
import type { Graph } from './graph.ts';

const quote = (text: string) => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

export function toDot(graph: Graph, order: readonly string[]): string {
  const lines = ['digraph tasks {', '  rankdir=LR;', '  node [shape=box];'];
  for (const name of order) {
    const node = graph.nodes.get(name)!;
    const shape = node.spec.run ? '' : ' [style=dashed]';
    lines.push(`  ${quote(name)}${shape};`);
  }
  for (const name of order) {
    for (const dep of graph.nodes.get(name)!.deps) lines.push(`  ${quote(dep)} -> ${quote(name)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
