/**
 * `npm start` (scripts/start.js) as a user runs it: the simulator and Node-RED with the
 * simulator demo. It runs from a temporary copy of the repository layout (its own
 * .node-red-user/) with Node-RED on a free port; the simulator uses its fixed port 1234,
 * so the test is skipped when something else holds that port.
 */
import assert from 'assert/strict';
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { freePort, isListening } from '../helpers/events';
import { repoRoot } from '../repo';


function post(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`POST ${url} timed out`)));
    req.end();
  });
}

describe('sim: npm start runs the simulator with the demo', function () {
  this.timeout(60000);
  let dir: string | null = null;
  let child: ChildProcess | null = null;
  let exited: Promise<number | null> = Promise.resolve(null);
  let output = '';

  afterEach(async function () {
    if (child && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      // Its own process group (detached): Node-RED and the simulator go with it.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    child = null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  async function waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in the output of npm start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('deploys the simulator demo, connects it to realvirtual-sim, and Ctrl+C stops both', async function () {
    if (await isListening(1234)) this.skip();
    const root = repoRoot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-start-'));
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(root, 'scripts', 'start.js'), path.join(dir, 'scripts', 'start.js'));
    for (const entry of ['dist', 'node_modules', 'examples']) fs.symlinkSync(path.join(root, entry), path.join(dir, entry), 'dir');
    fs.symlinkSync(path.join(root, 'package.json'), path.join(dir, 'package.json'), 'file');

    const port = await freePort();
    child = spawn(process.execPath, [path.join(dir, 'scripts', 'start.js')], {
      cwd: dir,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const started = child;
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    exited = new Promise((resolve) => started.once('exit', (code) => resolve(code)));

    await waitFor(/simulator demo deployed, realvirtual-sim on ws:\/\/127\.0\.0\.1:1234\//, 10000);
    await waitFor(/\[realvirtual-sim\] .*server listening on ws:\/\/127\.0\.0\.1:1234\//, 10000);
    await waitFor(/\[realvirtual-sim\] .*client connected: Node-RED/, 20000);
    await waitFor(/\[realvirtual-sim\] .*Node-RED subscribed to .*Counter/, 5000);

    // The demo's "motor off" button, pressed through Node-RED's HTTP API.
    assert.equal(await post(`http://127.0.0.1:${port}/inject/rvex.sim.i2`), 200);
    await waitFor(/\[realvirtual-sim\] .*Node-RED set MotorOn = false/, 5000);

    started.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 15000).unref())]);
    assert.equal(code, 0, `npm start exited with ${code}:\n${output}`);
    assert.match(output, /\[realvirtual-sim\] .*stopped/);
    assert.equal(await isListening(1234), false, 'the simulator released port 1234');
    assert.equal(await isListening(port), false, 'Node-RED released its port');
  });
});
