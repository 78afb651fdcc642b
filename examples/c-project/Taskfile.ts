// A small C program built the way a ninja user would: one compile task per .c file, each with
// the depfile gcc/clang write (-MMD -MF), and a link step. `npx task -C examples/c-project`.
import { cProgram, param } from '../../src/index.ts';

// Every flag is in a declared command: `opt=-O0` recompiles every object, nothing else.
const opt = param('opt', '-O2', 'optimisation flag of every compile');

const { link } = cProgram('wordcount', {
  sources: 'src/*.c',
  cflags: [opt, '-Wall', '-Iinclude'],
  // A define for one file only: changing it recompiles format.c alone.
  flagsFor: (file) => (file.base === 'format.c' ? ['-DSEPARATOR=" "'] : []),
  output: 'build/wordcount',
});

export default link;
