'use strict';
// Compiles the TypeScript sources to CommonJS in dist/ and puts every node's
// .html, icons/ and locales/ beside its .js, where Node-RED looks for them.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

const nodesOut = path.join(dist, 'nodes');
fs.mkdirSync(nodesOut, { recursive: true });
for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
  if (file.endsWith('.html')) fs.copyFileSync(path.join(root, 'nodes', file), path.join(nodesOut, file));
}
for (const folder of ['icons', 'locales']) {
  const source = path.join(root, folder);
  if (fs.existsSync(source)) fs.cpSync(source, path.join(nodesOut, folder), { recursive: true });
}
