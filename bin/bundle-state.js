// Whether dist/ holds the engine as src/ is now: dist/cli.js written after every src/**/*.ts (a
// few dozen stats). bin/task.js runs dist/ only then; the tests and benchmarks that need the
// bundle ask the same question here. False when there is no bundle, or src/ cannot be read.
const fs = require('node:fs');
const path = require('node:path');

function bundleIsCurrent(root = path.join(__dirname, '..')) {
  try {
    const built = fs.statSync(path.join(root, 'dist', 'cli.js'), { throwIfNoEntry: false });
    return built !== undefined && !editedSince(path.join(root, 'src'), built.mtimeMs);
  } catch {
    return false;
  }
}

/**
 * Whether a .ts file under `folder` was modified after `mtimeMs`. A walk by hand: Node 20's
 * recursive readdir costs a start about 3 ms more, and path.join, not yet compiled this early,
 * about 2 ms for these hundred names.
 */
function editedSince(folder, mtimeMs) {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const file = `${folder}${path.sep}${entry.name}`;
    if (entry.isDirectory()) {
      if (editedSince(file, mtimeMs)) return true;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && fs.statSync(file).mtimeMs > mtimeMs) {
      return true;
    }
  }
  return false;
}

module.exports = { bundleIsCurrent };
