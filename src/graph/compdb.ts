// `--compdb`: compile_commands.json (clang's JSON compilation database) for the declared
// commands that compile, as `ninja -t compdb` writes it, for clangd and other editors.
import path from 'node:path';
import type { Graph } from './graph.ts';

/** One entry of compile_commands.json. */
export interface CompileCommand {
  /** The folder the command runs in: the Taskfile's. */
  directory: string;
  /** The command's argv, as declared. */
  arguments: string[];
  /** The source it compiles, as the command names it. */
  file: string;
  /** What it writes (the word after `-o`), when the command says. */
  output?: string;
}

// A shell's `-c` runs a script, not a compile: `sh -c 'cc -c a.c'` is not listed.
const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'fish', 'busybox', 'env']);
const sourceExtension = /\.(c|cc|cp|cpp|cxx|c\+\+|C|m|mm|S|s|sx|cu|ixx|cppm)$/;

/**
 * The compile commands among the declared commands of `order`'s tasks, in that order. A command
 * compiles when it has `-c` (a compiler asked to compile only) and names a source: a word that is
 * one of the task's declared inputs, or else a word with a C-family source extension.
 */
export function compileCommands(graph: Graph, order: readonly string[]): CompileCommand[] {
  const entries: CompileCommand[] = [];
  for (const name of order) {
    const node = graph.nodes.get(name)!;
    const inputs = new Set(node.literalInputs.flatMap((input) => (input ? [input.file] : [])));
    for (const argv of node.commands) {
      if (!argv.includes('-c') || shells.has(path.basename(argv[0]!))) continue;
      const words = argv.slice(1).filter((word, i, all) => !word.startsWith('-') && all[i - 1] !== '-o');
      const file = words.find((word) => inputs.has(path.resolve(graph.root, word))) ?? words.find((word) => sourceExtension.test(word));
      if (file === undefined) continue;
      const o = argv.indexOf('-o');
      const output = o > 0 ? argv[o + 1] : undefined;
      entries.push({ directory: graph.root, arguments: argv, file, ...(output !== undefined ? { output } : {}) });
    }
  }
  return entries;
}
