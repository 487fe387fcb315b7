'use strict';
// `npm start`: runs the signal simulator (realvirtual-sim: a conveyor scene, server on
// 127.0.0.1:1234) and Node-RED on 127.0.0.1:1880 with this package loaded and the simulator
// demo deployed (a client-mode connection to the simulator). The environment variables PORT
// and SIM_PORT choose other ports. Ctrl+C, SIGTERM or SIGHUP stops both, and so does the end
// of the process that started this one (npm, an IDE). The Node-RED user directory is
// .node-red-user/ (git-ignored).
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const userDir = path.join(root, '.node-red-user');
const port = portFromEnv('PORT', 1880);
const SIM_HOST = '127.0.0.1';
const SIM_PORT = portFromEnv('SIM_PORT', 1234);
const DEMO_SIM_PORT = 1234;
/** How long the children may take to stop before they are killed. */
const STOP_DEADLINE_MS = 8000;
/** How often to look whether the process that started this one is still there. */
const PARENT_CHECK_MS = 500;
/** The first line of the settings.js this script writes. */
const GENERATED = '// Written by npm start (scripts/start.js) on every start while this line is here.';

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number from 1 to 65535, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
const link = path.join(userDir, 'node_modules', 'node-red-contrib-realvirtual');
if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
const manifest = path.join(userDir, 'package.json');
if (!fs.existsSync(manifest)) {
  fs.writeFileSync(manifest, JSON.stringify({ name: 'node-red-user', private: true, dependencies: { 'node-red-contrib-realvirtual': 'file:..' } }, null, 2));
}
const flows = path.join(userDir, 'flows.json');
if (!fs.existsSync(flows)) fs.writeFileSync(flows, demoFlows());
const settings = path.join(userDir, 'settings.js');
if (!fs.existsSync(settings) || isGeneratedSettings(fs.readFileSync(settings, 'utf8'))) fs.writeFileSync(settings, settingsText());

/** The simulator demo, its connection pointed at SIM_PORT. */
function demoFlows() {
  const demo = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'simulator-demo.json'), 'utf8'));
  for (const node of demo) {
    if (node.type === 'realvirtual-connection' && Number(node.port) === DEMO_SIM_PORT) node.port = SIM_PORT;
  }
  return `${JSON.stringify(demo, null, 2)}\n`;
}

/** Settings this script wrote (also those of earlier versions, without the marker line): they may be renewed. */
function isGeneratedSettings(text) {
  return (
    text.startsWith(GENERATED) ||
    /^module\.exports = \{\n {2}uiHost: '127\.0\.0\.1',\n {2}uiPort: \d+,\n {2}flowFile: 'flows\.json',\n {2}credentialSecret: false,\n {2}logging: \{ console: \{ level: 'info', metrics: false, audit: false \} \},\n\};\n$/.test(
      text,
    )
  );
}

function settingsText() {
  return [
    GENERATED,
    '// Delete that line to keep your own changes.',
    'module.exports = {',
    "  uiHost: '127.0.0.1',",
    `  uiPort: ${port},`,
    "  flowFile: 'flows.json',",
    '  credentialSecret: false,',
    '  // A demo: no welcome tour, no telemetry question and no update notices in the editor.',
    '  editorTheme: { tours: false },',
    '  telemetry: { enabled: false, updateNotification: false },',
    "  logging: { console: { level: 'info', metrics: false, audit: false } },",
    '};',
    '',
  ].join('\n');
}

// The simulator runs when the deployed flows have a client connection to it and no server of
// their own on its port (an older .node-red-user/flows.json, e.g. the loopback demo's, has one).
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

/**
 * Starts a child that stops by itself when this process ends in any way: exit-with-parent.js
 * watches the IPC channel, which closes when this process is gone.
 */
function spawnChild(args, stdio) {
  return spawn(process.execPath, ['--require', path.join(__dirname, 'exit-with-parent.js'), ...args], { stdio: [...stdio, 'ipc'] });
}

/** Resolves when the child has exited (at once when it already has). */
function exitOf(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', resolve));
}

let sim = null;
if (flowsUseSimulator()) {
  const cli = path.join(root, 'dist', 'sim', 'cli.js');
  sim = spawnChild([cli, '--mode', 'server', '--host', SIM_HOST, '--port', String(SIM_PORT)], ['ignore', 'pipe', 'pipe']);
  prefixLines(sim.stdout, process.stdout, '[realvirtual-sim] ');
  prefixLines(sim.stderr, process.stderr, '[realvirtual-sim] ');
  sim.once('exit', (code, signal) => {
    if (!stopping) console.error(`[realvirtual-sim] exited (${signal || `code ${code}`}); Node-RED keeps running without it`);
  });
} else {
  console.log(`${path.relative(root, flows)} does not connect to a simulator on ${SIM_HOST}:${SIM_PORT}, so none is started (delete that file to get the simulator demo).`);
}

const nodeRed = require.resolve('node-red/red.js');
const child = spawnChild([nodeRed, '--userDir', userDir, '--port', String(port)], ['inherit', 'inherit', 'inherit']);
console.log(
  `Node-RED with node-red-contrib-realvirtual: http://127.0.0.1:${port}/ (${sim ? `simulator demo deployed, realvirtual-sim on ws://${SIM_HOST}:${SIM_PORT}/` : 'your flows'}; Ctrl+C to stop)`,
);

/** Stops both children (SIGTERM, then SIGKILL after the deadline) and exits with `code`. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  const children = [child, sim].filter(Boolean);
  for (const one of children) one.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const one of children) one.kill('SIGKILL');
  }, STOP_DEADLINE_MS);
  await Promise.all(children.map(exitOf));
  clearTimeout(deadline);
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stopAll(0));
// Whoever started this process (npm, an IDE) is gone, even killed with SIGKILL: we were reparented.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stopAll(0);
}, PARENT_CHECK_MS).unref();
child.once('exit', (code, signal) => void stopAll(code ?? (signal ? 1 : 0)));
