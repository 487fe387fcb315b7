'use strict';
// `npm run screenshots`: runs the browser test (npm run test:browser: build, then Chromium
// against a real Node-RED), which saves its screenshots to test-artifacts/screenshots/, and
// copies the README's curated set from there into docs/screenshots/.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const shots = path.join(root, 'test-artifacts', 'screenshots');
const docs = path.join(root, 'docs', 'screenshots');

/** docs/screenshots/<name> ← test-artifacts/screenshots/<source> */
const CURATED = {
  'editor-flow.png': '11-deployed.png',
  'connection-import.png': '03-connection-client-import.png',
  'signal-picker.png': '04-realvirtual-in-picker.png',
  'minvr-flow.png': 'minvr-03-deployed.png',
  'dashboard-hmi.png': 'dashboard-hmi.png',
  'signal-monitor.png': 'monitor-01-tab.png',
  'signal-monitor-force.png': 'monitor-02-force.png',
  'signal-monitor-read-only.png': 'monitor-03-read-only.png',
};

const started = Date.now();
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = spawnSync(npm, ['run', 'test:browser'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (run.error) throw run.error;
if (run.status !== 0) {
  console.error('screenshots: the browser test failed; docs/screenshots/ is unchanged');
  process.exit(run.status || 1);
}

fs.mkdirSync(docs, { recursive: true });
for (const [name, source] of Object.entries(CURATED)) {
  const from = path.join(shots, source);
  if (!fs.existsSync(from) || fs.statSync(from).mtimeMs < started - 1000) {
    console.error(`screenshots: ${path.relative(root, from)} was not written by this run`);
    process.exit(1);
  }
  fs.copyFileSync(from, path.join(docs, name));
  console.log(`docs/screenshots/${name} ← test-artifacts/screenshots/${source}`);
}
