'use strict';
// Runs the Node-RED node tests again on Node-RED 5 under Node.js 22 (see ./nr5.js).
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { ensureNodeRed5 } = require('./nr5');

const root = path.resolve(__dirname, '..');
const { nodeBinary, nodeRed, version } = ensureNodeRed5();
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
