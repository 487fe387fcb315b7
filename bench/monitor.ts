/**
 * The signal monitor's cost: a real Node-RED (a child process) with a server-mode
 * realvirtual connection that a client feeds with 10,000 signals changing at 100 Hz.
 * The CPU time of the Node-RED process is measured in windows that alternate between
 * nobody watching and one editor watching (a comms WebSocket client subscribed to the
 * monitor, as the sidebar tab does, renewing its watch): idle, watched, idle, …, idle.
 * Each watched window's cost is its difference to the mean of the two idle windows
 * around it; the result is the median of those costs with their min and max, so that
 * one idle window that happens to be busier or quieter moves it little.
 */
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import WebSocket from 'ws';
import { encode, encodeSignals, SignalRecord } from '../engine/realvirtual/messages';
import { freePort } from '../test/helpers/events';
import { repoRoot } from '../test/repo';
import { delay } from './common';
import { MallocSettings, mallocEnv, STEADY_MALLOC } from './malloc';
import { medianOf } from './rounds';

export const MONITOR_SIGNALS = 10000;
export const MONITOR_HZ = 100;
/** The target: one watching editor costs less than this share of one core. */
export const MONITOR_TARGET_PERCENT = 5;

/**
 * glibc's malloc settings of the judged measurement. With the defaults, freeing a received
 * frame's buffer (270 kB here, 100 a second) can hand the top of the heap back to the kernel
 * and the next frame take it again: about 100 brk calls a second and +5–10 % of a core in
 * page faults, switched on or off by any change of the heap's layout, watched or idle. With
 * STEADY_MALLOC, the windows measure the monitor's own work.
 */
export const MONITOR_MALLOC: MallocSettings = STEADY_MALLOC;

/** Watched windows of a full run (each between two idle ones), and of a quick run. */
export const MONITOR_ROUNDS = 5;
export const MONITOR_QUICK_ROUNDS = 3;

export interface MonitorResult {
  signals: number;
  hz: number;
  windowMs: number;
  /** CPU of the Node-RED process in % of one core, per window: idle ones (one more than watched ones) and watched ones, in order. */
  idlePercents: number[];
  watchedPercents: number[];
  /** Per watched window: it minus the mean of the idle windows before and after it, % of one core. */
  costs: number[];
  /** The median of `costs`, and their min and max. */
  costPercent: number;
  costMinPercent: number;
  costMaxPercent: number;
  /** Frames and bytes the watcher received per second. */
  framesPerSec: number;
  bytesPerSec: number;
  /** Changes per second of one signal as the monitor measured it: shows the feed really ran at `hz`. */
  signalChangesPerSec: number;
  /** MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ of the Node-RED process, null: glibc's default (absent in results written before). */
  mallocTrimThreshold?: number | null;
  mallocMmapThreshold?: number | null;
}

const PACKAGE = 'node-red-contrib-realvirtual';

/** Clock ticks of user + system CPU time of a process, from /proc. */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const TICKS_PER_SECOND = 100;

async function cpuPercent(pid: number, windowMs: number): Promise<number> {
  const t0 = Date.now();
  const c0 = cpuTicks(pid);
  await delay(windowMs);
  const c1 = cpuTicks(pid);
  return ((c1 - c0) / TICKS_PER_SECOND / ((Date.now() - t0) / 1000)) * 100;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each caller reads its own route's JSON
function request(port: number, method: string, route: string, body?: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, timeout: 10000 }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (answer += chunk));
      res.on('end', () => {
        try {
          resolve(answer ? JSON.parse(answer) : null);
        } catch (error) {
          reject(new Error(`${method} ${route}: ${res.statusCode} ${answer.slice(0, 200)}`, { cause: error }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${route} timed out`)));
    req.on('error', reject);
    req.end(text);
  });
}

async function startNodeRed(rvPort: number, cpuProfDir: string | null, malloc: MallocSettings | null): Promise<{ child: ChildProcess; port: number; userDir: string }> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-bench-monitor-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(repoRoot(), path.join(userDir, 'node_modules', PACKAGE), 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'bench', private: true, dependencies: { [PACKAGE]: '*' } }));
  const flow = [
    { id: 'tab', type: 'tab', label: 'monitor bench' },
    { id: 'conn', type: 'realvirtual-connection', name: 'bench', mode: 'server', host: '127.0.0.1', port: rvPort, cycleMs: 10 },
    { id: 'out', type: 'realvirtual-out', z: 'tab', connection: 'conn', signal: '', x: 100, y: 100, wires: [] },
  ];
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  const settings = {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false, ui: false },
    logging: { console: { level: 'warn' } },
  };
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  const port = await freePort();
  const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--cpu-prof-name=monitor-node-red.cpuprofile'] : [];
  const child = spawn(process.execPath, [...profile, require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port)], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...mallocEnv(malloc) },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20000)));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
    try {
      await request(port, 'GET', '/settings');
      return { child, port, userDir };
    } catch {
      if (Date.now() > deadline) throw new Error(`Node-RED did not start: ${output}`);
      await delay(200);
    }
  }
}

async function stopNodeRed(child: ChildProcess, userDir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, delay(8000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  fs.unlinkSync(path.join(userDir, 'node_modules', PACKAGE));
  fs.rmSync(userDir, { recursive: true, force: true });
}

/** A watching editor: the comms socket the sidebar listens on, and its watch renewed as the tab does. */
async function startWatcher(port: number): Promise<{ stop(): Promise<void>; frames: number; bytes: number; rate: number }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/comms`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const counts = { frames: 0, bytes: 0, rate: 0 };
  socket.on('message', (data: Buffer) => {
    counts.bytes += data.length;
    for (const item of JSON.parse(data.toString()) as Array<{ topic: string; data: { rows?: Array<unknown[]> } }>) {
      if (!item.topic.startsWith('realvirtual/monitor/')) continue;
      counts.frames++;
      for (const row of item.data.rows ?? []) if (typeof row[7] === 'number') counts.rate = row[7];
    }
  });
  socket.send(JSON.stringify({ subscribe: 'realvirtual/monitor/#' }));
  const frame = await request(port, 'POST', '/realvirtual/monitor/watch', { connection: 'conn', offset: 0, limit: 60 });
  if (!frame || typeof frame.watch !== 'string') throw new Error(`the watch failed: ${JSON.stringify(frame).slice(0, 200)}`);
  const renew = setInterval(() => void request(port, 'POST', '/realvirtual/monitor/watch', { watch: frame.watch, renew: true }).catch(() => undefined), 5000);
  return {
    get frames() {
      return counts.frames;
    },
    get bytes() {
      return counts.bytes;
    },
    get rate() {
      return counts.rate;
    },
    async stop() {
      clearInterval(renew);
      await request(port, 'POST', '/realvirtual/monitor/unwatch', { watch: frame.watch });
      socket.close();
    },
  };
}

/**
 * `rounds` watched windows of `windowMs` between idle ones, in a Node-RED process with
 * glibc's malloc settings `malloc` (null: the defaults). With `cpuProfDir`, the
 * Node-RED process writes a CPU profile there when it ends.
 */
export async function monitorCase(windowMs: number, rounds: number, malloc: MallocSettings | null, cpuProfDir: string | null = null): Promise<MonitorResult> {
  const rvPort = await freePort();
  const red = await startNodeRed(rvPort, cpuProfDir, malloc);
  // The feeder sends frames encoded beforehand, so that its own speed does not limit the rate.
  const feeder = new WebSocket(`ws://127.0.0.1:${rvPort}/`);
  let timer: NodeJS.Timeout | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      feeder.once('open', () => resolve());
      feeder.once('error', reject);
    });
    feeder.on('message', () => undefined);
    feeder.send(encode.init('bench-feeder'));
    const names = Array.from({ length: MONITOR_SIGNALS }, (_, i) => `Signal${String(i).padStart(5, '0')}`);
    const frames: string[] = [];
    for (let step = 0; step < MONITOR_HZ; step++) {
      const record: SignalRecord = {};
      for (let i = 0; i < names.length; i++) record[names[i]] = step + i * 0.5;
      frames.push(encodeSignals('data', record));
    }
    const started = Date.now();
    let sent = 0;
    timer = setInterval(
      () => {
        const due = Math.floor(((Date.now() - started) * MONITOR_HZ) / 1000);
        // Catch up after a late timer, but by a bounded number of frames.
        for (let n = 0; sent < due && n < 5; n++, sent++) if (feeder.bufferedAmount < 8 * 1024 * 1024) feeder.send(frames[sent % frames.length]);
        sent = Math.max(sent, due - 5);
      },
      1000 / MONITOR_HZ / 2,
    );
    // Node-RED settles first: the first frames declare the 10,000 signals.
    await delay(3000);
    const pid = red.child.pid!;
    const idle = [await cpuPercent(pid, windowMs)];
    const watched: number[] = [];
    let framesSeen = 0;
    let bytesSeen = 0;
    let signalChangesPerSec = 0;
    for (let i = 0; i < rounds; i++) {
      // Each watched window is a new editor opening the tab, as it does.
      const watcher = await startWatcher(red.port);
      await delay(500);
      const frames0 = watcher.frames;
      const bytes0 = watcher.bytes;
      watched.push(await cpuPercent(pid, windowMs));
      framesSeen += watcher.frames - frames0;
      bytesSeen += watcher.bytes - bytes0;
      signalChangesPerSec = watcher.rate;
      await watcher.stop();
      await delay(500);
      idle.push(await cpuPercent(pid, windowMs));
    }
    if (framesSeen === 0) throw new Error('the watcher received no monitor frame');
    const round = (n: number): number => Math.round(n * 10) / 10;
    const costs = watched.map((percent, i) => round(percent - (idle[i] + idle[i + 1]) / 2));
    return {
      signals: MONITOR_SIGNALS,
      hz: MONITOR_HZ,
      windowMs,
      idlePercents: idle.map(round),
      watchedPercents: watched.map(round),
      costs,
      costPercent: round(medianOf(costs)),
      costMinPercent: Math.min(...costs),
      costMaxPercent: Math.max(...costs),
      framesPerSec: round((framesSeen * 1000) / (windowMs * rounds)),
      bytesPerSec: Math.round((bytesSeen * 1000) / (windowMs * rounds)),
      signalChangesPerSec,
      mallocTrimThreshold: malloc?.trimThreshold ?? null,
      mallocMmapThreshold: malloc?.mmapThreshold ?? null,
    };
  } finally {
    if (timer) clearInterval(timer);
    feeder.close();
    await stopNodeRed(red.child, red.userDir);
  }
}
