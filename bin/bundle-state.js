// Whether dist/ holds the engine as src/ is now: dist/cli.js written after every src/**/*.ts (a
// few dozen stats). bin/task.js runs dist/ only then; the tests and benchmarks that need the
// bundle ask the same question here. False when there is no bundle, or src/ cannot be read.
const fs = require('node:fs');
const path = require('node:path');

function bundleIsCurrent(root = path.join(__dirname, '..')) {
  const src = path.join(root, 'src');
  try {
    const built = fs.statSync(path.join(root, 'dist', 'cli.js'), { throwIfNoEntry: false });
    if (!built) return false;
    for (const file of fs.readdirSync(src, { recursive: true })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      if (built.mtimeMs < fs.statSync(path.join(src, file)).mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}

module.exports = { bundleIsCurrent };
