// Whether a path could be one a glob pattern matches, without the disk: for paths that do not
// exist yet (declared outputs). The same matcher tinyglobby globs the disk with (picomatch).
import { createRequire } from 'node:module';

interface Picomatch {
  (pattern: string, options?: { dot?: boolean }): (file: string) => boolean;
  scan(pattern: string): { base: string; glob: string };
}

const require = createRequire(import.meta.url);
// Loaded on the first call: only a glob that matches no file asks.
const picomatch = (): Picomatch => require('picomatch') as Picomatch;

// The matcher of `pattern` (dot files included, as the disk's glob does), the folder it looks under
// (`base`) and what it matches there (`glob`): for `src/*/x.h`, `src` and `*/x.h`.
export function globMatcher(pattern: string): { matches: (file: string) => boolean; base: string; glob: string } {
  const pm = picomatch();
  const { base, glob } = pm.scan(pattern);
  return { matches: pm(pattern, { dot: true }), base, glob };
}
