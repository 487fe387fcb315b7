/**
 * The package as users get it: `npm pack` of the built checkout (its "prepack" build is
 * skipped: the tests run on the built dist/). The tarball holds the built nodes, the examples
 * and no tests, needs no install script, installs into a fresh Node-RED user directory with
 * npm (ws comes from npm's cache or the registry), and Node-RED 4.1 loads every node type of
 * it without an error. Run with `npm run test:package` (not part of `npm test`).
 */
import assert from 'assert/strict';
import { ChildProcess, execFile, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { freePort } from '../helpers/events';
import { repoRoot } from '../repo';

const root = repoRoot();
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 200)}`, { cause: error }));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

describe('package: the npm tarball', function () {
  this.timeout(180000);
  let dir = '';
  let tarball = '';
  let files: string[] = [];
  let nodeRed: ChildProcess | null = null;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-package-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--no-update-notifier', '--pack-destination', dir], root, 60000);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')));
    tarball = path.join(dir, packed.filename);
    files = packed.files.map((file: { path: string }) => file.path);
  });

  after(async function () {
    if (nodeRed && nodeRed.exitCode === null && nodeRed.signalCode === null) {
      const exited = new Promise((resolve) => nodeRed?.once('exit', resolve));
      nodeRed.kill('SIGTERM');
      const timer = setTimeout(() => nodeRed?.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built nodes with their html, locales and icons, the engine, the simulator and the examples; no tests, no sources', function () {
    for (const [type, file] of Object.entries(manifest['node-red'].nodes as Record<string, string>)) {
      assert.ok(files.includes(file), `${type}: ${file}`);
      assert.ok(files.includes(file.replace(/\.js$/, '.html')), `${type}: its .html`);
      assert.ok(files.includes(`dist/nodes/locales/en-US/${type}.json`) && files.includes(`dist/nodes/locales/de/${type}.json`), `${type}: its locales`);
    }
    assert.ok(
      files.some((file) => file.startsWith('dist/nodes/icons/')),
      'icons',
    );
    for (const file of [manifest.main, manifest.types, ...Object.values(manifest.bin as Record<string, string>), 'README.md', 'LICENSE', 'package.json']) {
      assert.ok(files.includes(file), file);
    }
    assert.ok(
      files.some((file) => /^examples\/.+\.json$/.test(file)),
      'examples',
    );
    const unwanted = files.filter((file) => /^(dist\/)?(test|bench)\//.test(file) || /\.ts$/.test(file.replace(/\.d\.ts$/, '')) || file.startsWith('engine/') || file.startsWith('nodes/'));
    assert.deepEqual(unwanted, []);
  });

  it('needs no install script', async function () {
    await run('tar', ['-xzf', tarball, '-C', dir, 'package/package.json'], dir, 10000);
    const packed = JSON.parse(fs.readFileSync(path.join(dir, 'package', 'package.json'), 'utf8'));
    assert.deepEqual(
      INSTALL_SCRIPTS.filter((name) => packed.scripts?.[name]),
      [],
    );
  });

  it('installs into a fresh Node-RED user directory without a warning, and Node-RED 4.1 loads every node type of it', async function () {
    const userDir = path.join(dir, 'user');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    const { stderr } = await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'], userDir, 120000);
    assert.doesNotMatch(stderr, /warn|err/i, `npm install printed:\n${stderr}`);
    assert.ok(fs.existsSync(path.join(userDir, 'node_modules', 'node-red-contrib-realvirtual', manifest.main)));

    const port = await freePort();
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'warn' } } };\n`,
    );
    let output = '';
    nodeRed = spawn(process.execPath, [require.resolve('node-red/red.js', { paths: [root] }), '--userDir', userDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    nodeRed.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    nodeRed.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

    type NodeSet = { module: string; types: string[]; enabled: boolean; err?: string };
    const deadline = Date.now() + 30000;
    let sets: NodeSet[] | null = null;
    while (!sets) {
      if (nodeRed.exitCode !== null) assert.fail(`Node-RED exited (${nodeRed.exitCode}):\n${output}`);
      if (Date.now() > deadline) assert.fail(`Node-RED did not answer on ${port} within 30 s:\n${output}`);
      sets = (await getJson(`http://127.0.0.1:${port}/nodes`).catch(() => null)) as NodeSet[] | null;
      if (!sets) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const ours = sets.filter((set) => set.module === 'node-red-contrib-realvirtual');
    assert.deepEqual(
      ours.filter((set) => set.err || !set.enabled).map((set) => `${set.types}: ${set.err ?? 'disabled'}`),
      [],
    );
    assert.deepEqual(ours.flatMap((set) => set.types).sort(), Object.keys(manifest['node-red'].nodes).sort());
  });
});
