'use strict';
// Compiles the TypeScript sources to CommonJS and puts every node's .html, icons/ and
// locales/ beside its .js, where Node-RED looks for them. The output is assembled in a
// fresh folder and then swapped in for dist/, so that dist/ is never half built.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const fresh = path.join(root, `dist.building-${process.pid}`);
const stale = path.join(root, `dist.stale-${process.pid}`);

fs.rmSync(fresh, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root, '--outDir', fresh], { stdio: 'inherit' });
  const nodesOut = path.join(fresh, 'nodes');
  fs.mkdirSync(nodesOut, { recursive: true });
  for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
    if (file.endsWith('.html')) fs.copyFileSync(path.join(root, 'nodes', file), path.join(nodesOut, file));
  }
  for (const folder of ['icons', 'locales']) {
    const source = path.join(root, folder);
    if (fs.existsSync(source)) fs.cpSync(source, path.join(nodesOut, folder), { recursive: true });
  }
  // The package.json "bin" commands (dist/...) must be executable (they start with #!/usr/bin/env node).
  const bin = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).bin || {};
  for (const target of typeof bin === 'string' ? [bin] : Object.values(bin)) {
    const built = path.join(fresh, path.relative('dist', path.normalize(target)));
    if (fs.existsSync(built)) fs.chmodSync(built, 0o755);
  }
} catch {
  fs.rmSync(fresh, { recursive: true, force: true });
  process.exitCode = 1;
  return;
}
if (fs.existsSync(dist)) fs.renameSync(dist, stale);
fs.renameSync(fresh, dist);
fs.rmSync(stale, { recursive: true, force: true });
