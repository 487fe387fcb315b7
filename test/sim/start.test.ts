/**
 * `npm start` (scripts/start.js) as a user runs it: the simulator and Node-RED with the
 * simulator demo. It runs the package.json "start" script with the real npm (its build
 * step, "prestart", is skipped with --ignore-scripts: the tests run on the built dist/) from a
 * temporary copy of the repository layout (its own .node-red-user/), on free ports chosen
 * with PORT and SIM_PORT. npm starts in a process group of its own, so that every process it
 * started can be found; however npm is stopped, none of them may be left, nor a port held.
 */
import assert from 'assert/strict';
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { freePort, isListening } from '../helpers/events';
import { repoRoot } from '../repo';

const STOP_WAIT_MS = 15000;

function request(method: 'GET' | 'POST', url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end();
  });
}

/** The processes of a process group that have not ended (zombies count as ended), read from /proc. */
function liveMembers(group: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after its last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

interface Demo {
  npm: ChildProcess;
  port: number;
  simPort: number;
  dir: string;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
}

describe('sim: npm start runs the simulator with the demo', function () {
  this.timeout(60000);
  let demo: Demo | null = null;

  afterEach(async function () {
    if (!demo) return;
    const group = demo.npm.pid;
    if (group !== undefined && liveMembers(group).length > 0) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(demo.dir, { recursive: true, force: true });
    demo = null;
  });

  async function startDemo(): Promise<Demo> {
    const root = repoRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-start-'));
    fs.mkdirSync(path.join(dir, 'scripts'));
    for (const script of ['start.js', 'exit-with-parent.js']) fs.copyFileSync(path.join(root, 'scripts', script), path.join(dir, 'scripts', script));
    for (const entry of ['dist', 'node_modules', 'examples']) fs.symlinkSync(path.join(root, entry), path.join(dir, entry), 'dir');
    fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));

    const [port, simPort] = [await freePort(), await freePort()];
    const npm = spawn('npm', ['start', '--ignore-scripts'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), SIM_PORT: String(simPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    npm.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    npm.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const started: Demo = {
      npm,
      port,
      simPort,
      dir,
      output: () => output,
      async waitFor(pattern, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        while (!pattern.test(output)) {
          if (npm.exitCode !== null || npm.signalCode !== null) throw new Error(`npm start ended (${npm.signalCode ?? `code ${npm.exitCode}`}) before ${pattern} appeared in its output:\n${output}`);
          if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in the output of npm start:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
    };
    demo = started;
    await started.waitFor(new RegExp(`simulator demo deployed, realvirtual-sim on ws://127\\.0\\.0\\.1:${simPort}/`), 10000);
    await started.waitFor(new RegExp(`\\[realvirtual-sim\\] .*server listening on ws://127\\.0\\.0\\.1:${simPort}/`), 10000);
    await started.waitFor(/\[realvirtual-sim\] .*client connected: Node-RED/, 20000);
    assert.equal(await isListening(port), true, 'Node-RED answers on PORT');
    assert.equal(await isListening(simPort), true, 'the simulator answers on SIM_PORT');
    // npm, start.js, Node-RED and the simulator.
    assert.ok(liveMembers(npm.pid as number).length >= 4, `the processes of npm start: ${liveMembers(npm.pid as number).join(', ')}`);
    return started;
  }

  /** Waits (bounded) until no process npm started is left and neither port is held. */
  async function assertAllStopped(started: Demo, how: string): Promise<void> {
    const group = started.npm.pid as number;
    const deadline = Date.now() + STOP_WAIT_MS;
    const left = async (): Promise<string[]> => [
      ...liveMembers(group).map((pid) => `pid ${pid}`),
      ...((await isListening(started.port)) ? [`Node-RED's port ${started.port}`] : []),
      ...((await isListening(started.simPort)) ? [`the simulator's port ${started.simPort}`] : []),
    ];
    let remaining = await left();
    while (remaining.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      remaining = await left();
    }
    assert.deepEqual(remaining, [], `${how}: still there after ${STOP_WAIT_MS / 1000} s\n${started.output()}`);
  }

  it('deploys the simulator demo (no tour, no update notices), connects it to realvirtual-sim, and SIGINT to npm alone stops everything', async function () {
    const started = await startDemo();
    await started.waitFor(/\[realvirtual-sim\] .*Node-RED subscribed to .*Counter/, 5000);

    // The demo's "motor off" button, pressed through Node-RED's HTTP API.
    assert.equal((await request('POST', `http://127.0.0.1:${started.port}/inject/rvex.sim.i2`)).status, 200);
    await started.waitFor(/\[realvirtual-sim\] .*Node-RED set MotorOn = false/, 5000);
    const settings = JSON.parse((await request('GET', `http://127.0.0.1:${started.port}/settings`)).body);
    assert.equal(settings.editorTheme?.tours, false, 'the welcome tour is off');
    assert.equal(settings.telemetryEnabled, false, 'telemetry (and with it the update notice) is off');

    started.npm.kill('SIGINT');
    await assertAllStopped(started, 'SIGINT to npm');
    assert.match(started.output(), /\[realvirtual-sim\] .*stopped/, 'the simulator stopped cleanly');
  });

  it('SIGTERM to npm alone (a service manager, an IDE stop button) stops everything', async function () {
    const started = await startDemo();
    started.npm.kill('SIGTERM');
    await assertAllStopped(started, 'SIGTERM to npm');
    assert.match(started.output(), /\[realvirtual-sim\] .*stopped/, 'the simulator stopped cleanly');
  });

  it('Ctrl+C in a terminal (SIGINT to the whole process group) stops everything', async function () {
    const started = await startDemo();
    process.kill(-(started.npm.pid as number), 'SIGINT');
    await assertAllStopped(started, 'SIGINT to the process group');
  });

  it('SIGKILL of npm leaves no orphans: start.js notices, and its children notice when it is gone', async function () {
    const started = await startDemo();
    started.npm.kill('SIGKILL');
    await assertAllStopped(started, 'SIGKILL of npm');
  });
});
