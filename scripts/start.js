'use strict';
// `npm start`: runs Node-RED on 127.0.0.1:1880 with this package loaded and the
// loopback demo deployed. Its user directory is .node-red-user/ (git-ignored).
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const userDir = path.join(root, '.node-red-user');
const port = process.env.PORT || '1880';

fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
const link = path.join(userDir, 'node_modules', 'node-red-contrib-realvirtual');
if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
const manifest = path.join(userDir, 'package.json');
if (!fs.existsSync(manifest)) {
  fs.writeFileSync(manifest, JSON.stringify({ name: 'node-red-user', private: true, dependencies: { 'node-red-contrib-realvirtual': 'file:..' } }, null, 2));
}
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, 'examples', 'loopback-demo.json'), flows);
const settings = path.join(userDir, 'settings.js');
if (!fs.existsSync(settings)) {
  fs.writeFileSync(
    settings,
    `module.exports = {\n  uiHost: '127.0.0.1',\n  uiPort: ${Number(port)},\n  flowFile: 'flows.json',\n  credentialSecret: false,\n  logging: { console: { level: 'info', metrics: false, audit: false } },\n};\n`,
  );
}

const nodeRed = require.resolve('node-red/red.js');
const child = spawn(process.execPath, [nodeRed, '--userDir', userDir, '--port', port], { stdio: 'inherit' });
console.log(`Node-RED with node-red-contrib-realvirtual: http://127.0.0.1:${port}/ (loopback demo deployed; Ctrl+C to stop)`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
