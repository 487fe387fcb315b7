'use strict';
// `npm start`: runs the signal simulator (realvirtual-sim: a conveyor scene, server on
// 127.0.0.1:1234) and Node-RED on 127.0.0.1:1880 with this package loaded and the simulator
// demo deployed (a client-mode connection to the simulator). Ctrl+C stops both. The Node-RED
// user directory is .node-red-user/ (git-ignored).
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
if (!fs.existsSync(flows)) fs.copyFileSync(path.join(root, 'examples', 'simulator-demo.json'), flows);
const settings = path.join(userDir, 'settings.js');
if (!fs.existsSync(settings)) {
  fs.writeFileSync(
    settings,
    `module.exports = {\n  uiHost: '127.0.0.1',\n  uiPort: ${Number(port)},\n  flowFile: 'flows.json',\n  credentialSecret: false,\n  logging: { console: { level: 'info', metrics: false, audit: false } },\n};\n`,
  );
}

// The simulator runs when the deployed flows have a client connection to it and no server of
// their own on its port (an older .node-red-user/flows.json, e.g. the loopback demo's, has one).
const SIM_HOST = '127.0.0.1';
const SIM_PORT = 1234;
let stopping = false;
function flowsUseSimulator() {
  try {
    const connections = JSON.parse(fs.readFileSync(flows, 'utf8')).filter((n) => n && n.type === 'realvirtual-connection' && Number(n.port) === SIM_PORT);
    const client = connections.some((n) => n.mode === 'client' && ['127.0.0.1', 'localhost'].includes(n.host));
    return client && !connections.some((n) => n.mode !== 'client');
  } catch {
    return false;
  }
}

/** Prefixes each line a child prints, so that the simulator's lines stand out from Node-RED's. */
function prefixLines(stream, target, prefix) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) target.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => rest && target.write(`${prefix}${rest}\n`));
}

let sim = null;
let simExited = Promise.resolve();
if (flowsUseSimulator()) {
  const cli = path.join(root, 'dist', 'sim', 'cli.js');
  sim = spawn(process.execPath, [cli, '--mode', 'server', '--host', SIM_HOST, '--port', String(SIM_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(sim.stdout, process.stdout, '[realvirtual-sim] ');
  prefixLines(sim.stderr, process.stderr, '[realvirtual-sim] ');
  simExited = new Promise((resolve) => sim.once('exit', resolve));
  sim.once('exit', (code, signal) => {
    if (!stopping) console.error(`[realvirtual-sim] exited (${signal || `code ${code}`}); Node-RED keeps running without it`);
    sim = null;
  });
} else {
  console.log(`${path.relative(root, flows)} does not connect to a simulator on ${SIM_HOST}:${SIM_PORT}, so none is started (delete that file to get the simulator demo).`);
}

const nodeRed = require.resolve('node-red/red.js');
const child = spawn(process.execPath, [nodeRed, '--userDir', userDir, '--port', port], { stdio: 'inherit' });
console.log(`Node-RED with node-red-contrib-realvirtual: http://127.0.0.1:${port}/ (${sim ? `simulator demo deployed, realvirtual-sim on ws://${SIM_HOST}:${SIM_PORT}/` : 'your flows'}; Ctrl+C to stop)`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    child.kill(signal);
    if (sim) sim.kill(signal);
  });
}
child.on('exit', async (code) => {
  stopping = true;
  if (sim) {
    // Node-RED stopped: stop the simulator too, by its pid, and wait for it (bounded).
    sim.kill('SIGTERM');
    const timer = setTimeout(() => sim && sim.kill('SIGKILL'), 5000);
    await simExited;
    clearTimeout(timer);
  }
  process.exit(code ?? 0);
});
