/**
 * `npm run bench` — throughput, latency, fan-out and memory of the engine and the
 * nodes, each measured next to its baselines in the same run: raw `ws` + JSON (L) and
 * a flow of Node-RED core nodes that speaks the protocol by hand (DIY, bench/flows/diy.json);
 * and MinVR3 VREvents/s over TCP JSON, the engine against a raw `net.Socket`.
 *
 *   node dist/bench/run.js [--quick] [--only=ingest,emit,latency,fanout,memory,minvr,state,monitor] [--sizes=10,1000]
 *                          [--variants=ws,engine,node,diy] [--cpu-prof[=dir]] [--report]
 *
 * --variants also picks the MinVR3 cases: ws = its raw net.Socket baselines, engine = the engine.
 *
 * --cpu-prof writes a CPU profile of every measured process (summarize one with
 * `node dist/bench/profile.js <file>`); --report prints the tables of bench/results.json.
 *
 * Every case runs in a fresh measured process (subject.ts) fed by a separate load
 * generator (peer.ts), on 127.0.0.1 only. The run prints the tables and writes
 * bench/results.json. It exits non-zero only when a scenario breaks (throws, times
 * out, receives nothing or wrong data), never because of a timing: the full run
 * prints PASS/MISS per target, the quick run (CI) prints them as indicative.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot } from '../test/repo';
import { delay, si, SIZES } from './common';
import { Child } from './ipc';
import { monitorCase, MONITOR_TARGET_PERCENT } from './monitor';
import type { FanoutArgs, MinVRFloodArgs, MinVRSinkArgs, PingArgs, PingResult, StateFeedArgs } from './peer';
import {
  BACKGROUND_LIMIT,
  EmitRow,
  FanoutRow,
  IngestRow,
  LatencyRow,
  Machine,
  MemoryResult,
  MINVR_VARIANT_NAMES,
  MinVRRow,
  renderAll,
  Results,
  Settings,
  StateRow,
  Target,
  VARIANT_NAMES,
  Window,
} from './report';
import type { CaseSpec, Mark, MinVRVariant, SetupResult, StateVariant, Variant } from './subject';

const SCENARIOS = ['ingest', 'emit', 'latency', 'fanout', 'memory', 'minvr', 'state', 'monitor'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Options {
  quick: boolean;
  only: Set<Scenario>;
  /** Signals per message of ingest and emit: all of SIZES, or the smallest and largest in a quick run. */
  sizes: number[];
  /** Only these variants (ws, engine, node, diy) of ingest, emit, latency and minvr (ws: its raw baselines); null = all. */
  variants: Set<string> | null;
  cpuProf: string | null;
  reportOnly: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, only: new Set(SCENARIOS), sizes: [], variants: null, cpuProf: null, reportOnly: false };
  for (const arg of argv) {
    const [key, value] = arg.split(/=(.*)/s, 2);
    if (key === '--quick') options.quick = true;
    else if (key === '--report') options.reportOnly = true;
    else if (key === '--only' && value) {
      const wanted = value.split(',').map((s) => s.trim());
      for (const name of wanted) if (!SCENARIOS.includes(name as Scenario)) throw new Error(`--only: unknown scenario ${JSON.stringify(name)} (known: ${SCENARIOS.join(', ')})`);
      options.only = new Set(wanted as Scenario[]);
    } else if (key === '--sizes' && value) {
      options.sizes = value.split(',').map((s) => Number(s.trim()));
      if (options.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 100000)) throw new Error('--sizes: whole numbers from 1 to 100000');
    } else if (key === '--variants' && value) {
      options.variants = new Set(value.split(',').map((s) => s.trim()));
      for (const name of options.variants) if (!['ws', 'engine', 'node', 'diy'].includes(name)) throw new Error(`--variants: unknown variant ${JSON.stringify(name)} (known: ws, engine, node, diy)`);
    } else if (key === '--cpu-prof') options.cpuProf = path.resolve(value || path.join(os.tmpdir(), 'realvirtual-bench-profiles'));
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (options.sizes.length === 0) options.sizes = options.quick ? [SIZES[0], SIZES[SIZES.length - 1]] : SIZES;
  return options;
}

function settingsFor(quick: boolean): Settings {
  return quick
    ? { warmupMs: 100, windowMs: 250, roundTrips: 200, roundTripWarmup: 20, roundTripWarmupMs: 100, fanoutWindowMs: 300, memorySignals: 100000, idleClients: 100 }
    : { warmupMs: 1000, windowMs: 2500, roundTrips: 10000, roundTripWarmup: 100, roundTripWarmupMs: 3000, fanoutWindowMs: 5000, memorySignals: 100000, idleClients: 100 };
}

const FANOUT_CLIENTS = [1, 10, 100];
/** Windows measured again because other processes disturbed them, at most, per run (bounds the run time). */
const MAX_RETRIES = 40;
const FANOUT_SIGNALS = 1000;
const FANOUT_HZ = 100;
const CYCLE_MS = 10;
/** The state scenario: signals received once, then small frames at this rate. */
const STATE_SIGNALS = 100000;
const STATE_HZ = 20;
/** The baseline stalls at 20/s (each copy of 100 k signals takes longer than 50 ms, so frames pile up): it is fed at this rate. */
const STATE_COPY_HZ = 2;
/** MinVR3: the engine's send rate must reach this share of a raw net.Socket writing pre-encoded frames. */
const MINVR_SEND_TARGET = 0.7;

// ---------------------------------------------------------------- machine

function packageVersion(file: string): string {
  return JSON.parse(fs.readFileSync(file, 'utf8')).version as string;
}

function nodeRedVersion(): string {
  let main: string;
  try {
    main = require.resolve(process.env.NODE_RED_PATH || 'node-red');
  } catch {
    return 'not found';
  }
  let dir = path.dirname(main);
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).name === 'node-red') return packageVersion(file);
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function machine(): Machine {
  let commit: string | null;
  try {
    commit =
      execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || null;
  } catch {
    commit = null;
  }
  if (commit) {
    try {
      // Plumbing that only reads: exits 1 when tracked files differ from the commit.
      execFileSync('git', ['diff-index', '--quiet', 'HEAD', '--'], { cwd: repoRoot(), stdio: 'ignore' });
    } catch {
      commit += ' + local changes';
    }
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nodeRed: nodeRedVersion(),
    ws: packageVersion(require.resolve('ws/package.json')),
    package: packageVersion(path.join(repoRoot(), 'package.json')),
    commit,
  };
}

// ---------------------------------------------------------------- processes and windows

interface PeerMark {
  t: number;
  cpu: { user: number; system: number };
  counters: Record<string, number>;
}

interface Delta {
  seconds: number;
  cpuPercent: number;
  cpuMs: number;
  counters: Record<string, number>;
}

function delta(from: PeerMark, to: PeerMark): Delta {
  const seconds = (to.t - from.t) / 1000;
  const cpuMs = (to.cpu.user - from.cpu.user + to.cpu.system - from.cpu.system) / 1000;
  const counters: Record<string, number> = {};
  for (const key of Object.keys(to.counters)) counters[key] = to.counters[key] - (from.counters[key] ?? 0);
  return { seconds, cpuMs, cpuPercent: (cpuMs / (seconds * 1000)) * 100, counters };
}

function windowOf(d: Delta): Window {
  return { seconds: round(d.seconds, 3), cpuPercent: round(d.cpuPercent, 1) };
}

function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

class Run {
  readonly failures: Results['failures'] = [];
  private profiled = 0;
  private retries = 0;

  constructor(
    readonly options: Options,
    readonly settings: Settings,
  ) {}

  wants(variant: string): boolean {
    return this.options.variants === null || this.options.variants.has(variant);
  }

  /** Starts a fresh measured process and load generator for one case, and always ends both. */
  async withProcesses<T>(label: string, fn: (subject: Child, peer: Child) => Promise<T>, memory = false): Promise<T | null> {
    const execArgv = memory ? ['--expose-gc'] : [];
    if (this.options.cpuProf && !memory) {
      fs.mkdirSync(this.options.cpuProf, { recursive: true });
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${this.options.cpuProf}`, `--cpu-prof-name=${String(++this.profiled).padStart(2, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
    }
    const started = Date.now();
    let subject: Child | null = null;
    let peer: Child | null = null;
    try {
      const starting = [Child.start('subject', `measured process (${label})`, execArgv), Child.start('peer', `peer (${label})`)] as const;
      const [s, p] = await Promise.allSettled(starting);
      if (s.status === 'fulfilled') subject = s.value;
      if (p.status === 'fulfilled') peer = p.value;
      if (s.status === 'rejected') throw s.reason;
      if (p.status === 'rejected') throw p.reason;
      return await fn(subject!, peer!);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failures.push({ case: label, error: message });
      console.log(`  ${label}: BROKEN — ${message}`);
      return null;
    } finally {
      await peer?.call('stop', undefined, 10000).catch(() => undefined);
      await subject?.call('teardown', undefined, 20000).catch(() => undefined);
      await Promise.all([peer?.close(), subject?.close()]);
      const took = (Date.now() - started) / 1000;
      if (process.env.BENCH_TIMING || took > 120) console.log(`  (${label} took ${took.toFixed(1)} s)`);
    }
  }

  /**
   * Warm-up, then a window between two marks of both processes. The machine's other
   * load is measured too; in a full run a window disturbed by it is measured once more
   * (within a budget for the whole run) and the less disturbed one is kept.
   */
  async window(subject: Child, peer: Child, windowMs = this.settings.windowMs): Promise<Measured> {
    await delay(this.settings.warmupMs);
    let best = await this.windowOnce(subject, peer, windowMs);
    if (!this.options.quick && best.backgroundPercent > BACKGROUND_LIMIT && this.retries < MAX_RETRIES) {
      this.retries++;
      const again = await this.windowOnce(subject, peer, windowMs);
      if (again.backgroundPercent < best.backgroundPercent) best = again;
    }
    return best;
  }

  /** One window between two marks of both processes, with the machine's other load in it. */
  async windowOnce(subject: Child, peer: Child, windowMs: number): Promise<Measured> {
    const busy0 = machineBusyMs();
    const own0 = process.cpuUsage();
    const [s0, p0] = await Promise.all([subject.call<Mark>('mark'), peer.call<PeerMark>('mark')]);
    await delay(windowMs);
    const [s1, p1] = await Promise.all([subject.call<Mark>('mark'), peer.call<PeerMark>('mark')]);
    const own = process.cpuUsage(own0);
    const busy = machineBusyMs() - busy0;
    const result = { subject: delta(s0, s1), peer: delta(p0, p1), subjectMark: s1 };
    const foreign = busy - result.subject.cpuMs - result.peer.cpuMs - (own.user + own.system) / 1000;
    return { ...result, backgroundPercent: round(Math.max(0, (foreign / result.subject.seconds / 1000) * 100), 1) };
  }
}

interface Measured {
  subject: Delta;
  peer: Delta;
  /** The subject's mark at the end of the window (its counters then). */
  subjectMark: Mark;
  /** CPU used by other processes of the machine during the window, in % of one core. */
  backgroundPercent: number;
}

/** CPU time all cores of the machine spent busy so far, in ms. */
function machineBusyMs(): number {
  return os.cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}

async function waitFor(child: Child, test: (counters: Record<string, number>) => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mark = await child.call<PeerMark>('mark');
    if (test(mark.counters)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${JSON.stringify(mark.counters)})`);
    await delay(20);
  }
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------- scenarios

async function ingestCase(run: Run, variant: Variant, size: number): Promise<IngestRow | null> {
  if (!run.wants(variant)) return null;
  const label = `ingest ${size} ${VARIANT_NAMES[variant]}`;
  return run.withProcesses(label, async (subject, peer) => {
    const spec: CaseSpec = { scenario: 'ingest', variant, size };
    const { url } = await subject.call<SetupResult>('setup', spec, 60000);
    await peer.call('flood', { url, size, maxMs: run.settings.warmupMs + run.settings.windowMs + 60000 });
    await waitFor(subject, (c) => c.messages > 0, 'the first message to be processed');
    const w = await run.window(subject, peer);
    const c = w.subject.counters;
    expect(c.messages > 0, 'nothing was received in the measured window');
    expect(c.wrong === 0, `${c.wrong} message(s) did not carry all ${size} signals`);
    const row: IngestRow = {
      variant,
      size,
      messagesPerSec: round(c.messages / w.subject.seconds),
      signalsPerSec: round(c.signals / w.subject.seconds),
      subject: windowOf(w.subject),
      peer: windowOf(w.peer),
      sentMessagesPerSec: round(w.peer.counters.frames / w.peer.seconds),
      backgroundPercent: w.backgroundPercent,
    };
    console.log(
      `  ${label.padEnd(34)} ${si(row.messagesPerSec).padStart(8)} msg/s ${si(row.signalsPerSec).padStart(8)} signals/s (${si(row.messagesPerSec / (row.subject.cpuPercent / 100))} msg per CPU-s)  cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)`,
    );
    return row;
  });
}

async function emitCase(run: Run, variant: Variant, size: number, cycleMs: number | null): Promise<EmitRow | null> {
  if (!run.wants(variant)) return null;
  const label = `emit ${size} ${VARIANT_NAMES[variant]}${cycleMs === null ? '' : ` cycleMs ${cycleMs}`}`;
  return run.withProcesses(label, async (subject, peer) => {
    const spec: CaseSpec = { scenario: 'emit', variant, size, cycleMs: cycleMs ?? 0 };
    const { url } = await subject.call<SetupResult>('setup', spec, 60000);
    await peer.call('sink', { url });
    await delay(50);
    await subject.call('start');
    await waitFor(peer, (c) => c.signals > 0, 'the first signals on the wire');
    const w = await run.window(subject, peer);
    await subject.call('stop');
    const s = w.subject.counters;
    const p = w.peer.counters;
    expect(p.signals > 0, 'no signal reached the peer in the measured window');
    expect(p.wrong === 0, `${p.wrong} frame(s) did not parse to the counted signals`);
    const row: EmitRow = {
      variant,
      size,
      cycleMs,
      writtenPerSec: round(s.written / w.subject.seconds),
      writtenSignalsPerSec: round(s.writtenSignals / w.subject.seconds),
      framesPerSec: round(p.frames / w.peer.seconds),
      signalsPerSec: round(p.signals / w.peer.seconds),
      bytesPerSec: round(p.bytes / w.peer.seconds),
      subject: windowOf(w.subject),
      peer: windowOf(w.peer),
      overflowed: s.overflowed > 0,
      backgroundPercent: w.backgroundPercent,
    };
    console.log(
      `  ${label.padEnd(34)} ${si(row.signalsPerSec).padStart(8)} signals/s sent (${si(row.framesPerSec)} frames/s), ${si(row.writtenSignalsPerSec)} signals/s written   cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)${row.overflowed ? ' OVERFLOWED' : ''}`,
    );
    return row;
  });
}

async function latencyCase(run: Run, variant: 'ws' | 'node' | 'diy', cycleMs: number | null): Promise<LatencyRow | null> {
  if (!run.wants(variant)) return null;
  const label = `latency ${variant === 'ws' ? 'raw ws echo' : variant === 'diy' ? 'DIY flow' : `in → out cycleMs ${cycleMs}`}`;
  const thinkMaxMs = cycleMs ?? 0;
  return run.withProcesses(label, async (subject, peer) => {
    const spec: CaseSpec = { scenario: 'echo', variant, cycleMs: cycleMs ?? 0 };
    const { url } = await subject.call<SetupResult>('setup', spec, 60000);
    const maxMs = run.settings.roundTripWarmupMs + (run.settings.roundTrips + run.settings.roundTripWarmup) * (thinkMaxMs + 25) + 30000;
    const args: PingArgs = { url, count: run.settings.roundTrips, warmup: run.settings.roundTripWarmup, warmupMs: run.settings.roundTripWarmupMs, thinkMaxMs, timeoutMs: 5000, maxMs };
    const busy0 = machineBusyMs();
    const result = await peer.call<PingResult>('ping', args, maxMs + 30000);
    // The pinger and the echo are mostly idle: everything else the machine did counts as other load (an upper bound).
    const backgroundPercent = round(Math.max(0, ((machineBusyMs() - busy0) / (result.seconds * 1000)) * 100), 1);
    expect(result.n > 0, 'no round trip completed');
    const row: LatencyRow = { variant, cycleMs, thinkMaxMs, ...result, backgroundPercent };
    console.log(
      `  ${label.padEnd(34)} p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  max ${row.max.toFixed(3)} ms  (${row.n} round trips after ${row.warmup} to warm up, ${row.seconds.toFixed(1)} s, machine busy ${row.backgroundPercent}%)`,
    );
    return row;
  });
}

async function fanoutCase(run: Run, clients: number): Promise<FanoutRow | null> {
  const label = `fan-out ${clients} client(s)`;
  return run.withProcesses(label, async (subject, peer) => {
    const spec: CaseSpec = { scenario: 'fanout', signals: FANOUT_SIGNALS, cycleMs: CYCLE_MS, writeHz: FANOUT_HZ };
    const { url } = await subject.call<SetupResult>('setup', spec, 60000);
    const args: FanoutArgs = { url, clients, signals: FANOUT_SIGNALS, small: 10, smallGroups: 5 };
    const { distinctSubscriptions } = await peer.call<{ distinctSubscriptions: number }>('fanout', args, 60000);
    await subject.call('start');
    const w = await run.window(subject, peer, run.settings.fanoutWindowMs);
    await subject.call('stop');
    const s = w.subject.counters;
    expect(s.cycles > 0, 'no cycle ran in the measured window');
    expect(w.peer.counters.frames > 0, 'no frame reached the clients');
    expect(w.peer.counters.wrong === 0, `${w.peer.counters.wrong} client(s) got frames that did not match their subscription`);
    const after = await subject.call<Mark>('mark');
    const row: FanoutRow = {
      clients,
      signals: FANOUT_SIGNALS,
      distinctSubscriptions,
      groups: after.counters.groups,
      cyclesPerSec: round(s.cycles / w.subject.seconds, 1),
      encodesPerCycle: round(s.encodes / s.cycles, 3),
      framesPerCycle: round(s.frames / s.cycles, 2),
      bytesPerCycle: round(s.bytes / s.cycles),
      bytesPerSec: round(s.bytes / w.subject.seconds),
      cpuMsPerCycle: round(w.subject.cpuMs / s.cycles, 4),
      cpuPercent: round(w.subject.cpuPercent, 1),
      receivedBytesPerSec: round(w.peer.counters.bytes / w.peer.seconds),
      peerCpuPercent: round(w.peer.cpuPercent, 1),
      backgroundPercent: w.backgroundPercent,
    };
    console.log(
      `  ${label.padEnd(34)} ${row.encodesPerCycle.toFixed(2)} encodes/cycle (${distinctSubscriptions} distinct), ${row.cpuMsPerCycle.toFixed(3)} ms CPU/cycle, ${row.cpuPercent}% of a core, ${si(row.bytesPerSec)}B/s sent (peer cpu ${row.peerCpuPercent}%, other ${row.backgroundPercent}%)`,
    );
    return row;
  });
}

async function memoryCase(run: Run): Promise<MemoryResult | null> {
  const count = run.settings.memorySignals;
  const signals = await run.withProcesses(
    `memory ${count} signals`,
    async (subject, peer) => {
      const spec: CaseSpec = { scenario: 'memory-signals', count };
      const setup = await subject.call<SetupResult>('setup', spec, 60000);
      const info = setup.info as { before: NodeJS.MemoryUsage; after: NodeJS.MemoryUsage; dataBytes: number; count: number };
      expect(info.count === count, `the table holds ${info.count} signals, not ${count}`);
      await peer.call('idle', { url: setup.url, clients: 1 }, 60000);
      const withClient = await subject.call<Mark>('mark', { gc: true }, 60000);
      return { info, withClient: withClient.memory };
    },
    true,
  );
  const clients = await run.withProcesses(
    `memory ${run.settings.idleClients} idle clients`,
    async (subject, peer) => {
      const spec: CaseSpec = { scenario: 'memory-clients', signals: FANOUT_SIGNALS };
      const setup = await subject.call<SetupResult>('setup', spec, 60000);
      await peer.call('idle', { url: setup.url, clients: run.settings.idleClients }, 60000);
      await delay(500);
      const after = await subject.call<Mark>('mark', { gc: true }, 60000);
      expect(after.counters.clients === run.settings.idleClients, `${after.counters.clients} clients connected, not ${run.settings.idleClients}`);
      return { before: (setup.info as { before: NodeJS.MemoryUsage }).before, after: after.memory };
    },
    true,
  );
  if (!signals || !clients) return null;
  const { info, withClient } = signals;
  const heap = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.external;
  const result: MemoryResult = {
    signals: count,
    heapUsedBefore: info.before.heapUsed,
    heapUsed: info.after.heapUsed,
    rss: info.after.rss,
    rssBefore: info.before.rss,
    external: info.after.external,
    nameValueBytes: info.dataBytes,
    bytesPerSignal: round((heap(info.after) - heap(info.before) - info.dataBytes) / count, 1),
    bytesPerSignalWithClient: round((heap(withClient) - heap(info.after)) / count, 1),
    idleClients: run.settings.idleClients,
    heapPerClient: round((heap(clients.after) - heap(clients.before)) / run.settings.idleClients),
    rssPerClient: round((clients.after.rss - clients.before.rss) / run.settings.idleClients),
  };
  console.log(
    `  memory: ${count} signals → heap ${si(result.heapUsed)}B, RSS ${si(result.rss)}B, ${result.bytesPerSignal} B/signal beyond name and value (+${result.bytesPerSignalWithClient} B/signal with a client); ` +
      `${result.heapPerClient} B heap, ${result.rssPerClient} B RSS per idle client`,
  );
  return result;
}

async function minvrCase(run: Run, direction: 'send' | 'receive', variant: MinVRVariant): Promise<MinVRRow | null> {
  if (!run.wants(variant === 'engine' ? 'engine' : 'ws')) return null;
  const label = `minvr ${direction} ${MINVR_VARIANT_NAMES[variant]}`;
  return run.withProcesses(label, async (subject, peer) => {
    let w: Measured;
    let eventsPerSec: number;
    let frameBytes: number;
    let writtenPerSec: number;
    if (direction === 'send') {
      if (variant === 'json') throw new Error('no JSON.parse variant of sending');
      const spec: CaseSpec = { scenario: 'minvr-send', variant };
      const { url } = await subject.call<SetupResult>('setup', spec, 60000);
      await peer.call('minvrSink', { url } satisfies MinVRSinkArgs);
      await subject.call('start', undefined, 10000);
      await waitFor(peer, (c) => c.frames > 0, 'the first frames at the peer');
      w = await run.window(subject, peer);
      await subject.call('stop');
      expect(w.peer.counters.frames > 0, 'no frame reached the peer in the measured window');
      expect(w.peer.counters.wrong === 0, `${w.peer.counters.wrong} sampled frame(s) were not the tracker events sent`);
      eventsPerSec = w.peer.counters.frames / w.peer.seconds;
      frameBytes = w.peer.counters.bytes / w.peer.counters.frames;
      writtenPerSec = w.subject.counters.written / w.subject.seconds;
    } else {
      if (variant === 'corked') throw new Error('no corked variant of receiving');
      const spec: CaseSpec = { scenario: 'minvr-receive', variant };
      const { url } = await subject.call<SetupResult>('setup', spec, 60000);
      await peer.call('minvrFlood', { url, maxMs: run.settings.warmupMs + run.settings.windowMs + 60000 } satisfies MinVRFloodArgs);
      await waitFor(subject, (c) => c.events > 0, 'the first event to be received');
      w = await run.window(subject, peer);
      expect(w.subject.counters.events > 0, 'nothing was received in the measured window');
      expect(w.subject.counters.wrong === 0, `${w.subject.counters.wrong} frame(s) were not Vector3 events`);
      eventsPerSec = w.subject.counters.events / w.subject.seconds;
      frameBytes = w.peer.counters.bytes / w.peer.counters.frames;
      // What the peer wrote; the receiver's backlog is bounded by the socket.
      writtenPerSec = w.peer.counters.frames / w.peer.seconds;
    }
    const row: MinVRRow = {
      direction,
      variant,
      eventsPerSec: round(eventsPerSec),
      bytesPerSec: round(eventsPerSec * frameBytes),
      frameBytes: round(frameBytes, 1),
      subject: windowOf(w.subject),
      peer: windowOf(w.peer),
      writtenPerSec: round(writtenPerSec),
      backgroundPercent: w.backgroundPercent,
    };
    // How often the sender found SEND_HIGH bytes waiting and paused (0: it was never ahead of the socket).
    const paused = direction === 'send' && w.subject.counters.waits > 0 ? `, paused ${w.subject.counters.waits}×` : '';
    console.log(
      `  ${label.padEnd(34)} ${si(row.eventsPerSec).padStart(8)} events/s ${direction === 'send' ? 'delivered' : 'received'} (${si(row.writtenPerSec)} written/s${paused}, ${si(row.eventsPerSec / (row.subject.cpuPercent / 100))} per CPU-s)  cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)`,
    );
    return row;
  });
}

/**
 * realvirtual-in's "state" output with 100 k received signals and small frames at 20/s,
 * against its baseline: the same state merged by a function that sends a copy per message
 * (what every state message cost before), fed slower because it cannot keep up with 20/s.
 * The window is twice the usual one, at least 2 s (the rates are low).
 */
async function stateCase(run: Run, variant: StateVariant): Promise<StateRow | null> {
  if (!run.wants(variant === 'node' ? 'node' : 'diy')) return null;
  const label = `state ${variant === 'node' ? 'realvirtual-in' : 'copy per message'}`;
  return run.withProcesses(label, async (subject, peer) => {
    const spec: CaseSpec = { scenario: 'state', variant, signals: STATE_SIGNALS };
    const { url } = await subject.call<SetupResult>('setup', spec, 60000);
    // At least 2 s, so that even a quick run sees a few messages of the baseline's 2/s.
    const windowMs = Math.max(2000, 2 * run.settings.windowMs);
    const hz = variant === 'node' ? STATE_HZ : STATE_COPY_HZ;
    await peer.call('stateFeed', { url, signals: STATE_SIGNALS, hz, maxMs: run.settings.warmupMs + windowMs + 120000 } satisfies StateFeedArgs);
    await waitFor(subject, (c) => c.messages > 0, 'the state of the first frame', 60000);
    await delay(run.settings.warmupMs);
    await subject.call('start');
    const { subject: s, peer: p, subjectMark: s1, backgroundPercent } = await run.windowOnce(subject, peer, windowMs);
    expect(s.counters.messages > 0, 'no state message in the measured window');
    expect(s1.counters.wrong === 0, `${s1.counters.wrong} state message(s) did not carry all ${STATE_SIGNALS} signals`);
    const row: StateRow = {
      variant,
      signals: STATE_SIGNALS,
      framesPerSec: round(p.counters.frames / p.seconds, 1),
      messagesPerSec: round(s.counters.messages / s.seconds, 1),
      cpuMsPerMessage: round(s.cpuMs / s.counters.messages, 3),
      cpuPercent: round(s.cpuPercent, 1),
      loopP99Ms: round(s1.counters.loopP99Ms, 2),
      loopMaxMs: round(s1.counters.loopMaxMs, 2),
      heapUsed: s1.memory.heapUsed,
      rss: s1.memory.rss,
      maxRss: s1.counters.maxRssBytes,
      backgroundPercent,
    };
    console.log(
      `  ${label.padEnd(34)} ${row.framesPerSec} frames/s in, ${row.messagesPerSec} messages/s out, ${row.cpuMsPerMessage} ms CPU/message, cpu ${row.cpuPercent}%, loop delay p99 ${row.loopP99Ms} ms max ${row.loopMaxMs} ms, heap ${si(row.heapUsed)}B RSS ${si(row.rss)}B (peak ${si(row.maxRss)}B)`,
    );
    return row;
  });
}

// ---------------------------------------------------------------- targets

function targets(results: Results): Target[] {
  const list: Target[] = [];
  const ingest = (variant: string, size: number): IngestRow | undefined => results.ingest.find((row) => row.variant === variant && row.size === size);
  const l = ingest('ws', 1000);
  const engine = ingest('engine', 1000);
  if (l && engine) {
    const r = engine.messagesPerSec / l.messagesPerSec;
    list.push({
      id: 'engine-ingest',
      text: 'engine ingest ≥ 0.8 × L at 1,000 signals/msg',
      measured: `${r.toFixed(2)} × (${si(engine.messagesPerSec)} vs ${si(l.messagesPerSec)} msg/s)`,
      pass: r >= 0.8,
    });
  }
  for (const size of [...new Set(results.ingest.map((row) => row.size))].sort((a, b) => a - b)) {
    const node = ingest('node', size);
    const diy = ingest('diy', size);
    if (!node || !diy) continue;
    const r = node.messagesPerSec / diy.messagesPerSec;
    list.push({
      id: `in-ingest-${size}`,
      text: `realvirtual-in ingest ≥ 1.5 × DIY at ${size} signals/msg`,
      measured: `${r.toFixed(2)} × (${si(node.messagesPerSec)} vs ${si(diy.messagesPerSec)} msg/s)`,
      pass: r >= 1.5,
    });
  }
  const latency = (variant: string, cycleMs: number | null): LatencyRow | undefined => results.latency.find((row) => row.variant === variant && row.cycleMs === cycleMs);
  const ours0 = latency('node', 0);
  const ours10 = latency('node', CYCLE_MS);
  const diy = latency('diy', null);
  const raw = latency('ws', null);
  if (ours0 && diy) {
    list.push({ id: 'latency-diy', text: 'latency p99 (cycleMs 0) ≤ DIY p99', measured: `${ours0.p99.toFixed(3)} ms vs ${diy.p99.toFixed(3)} ms`, pass: ours0.p99 <= diy.p99 });
  }
  if (ours0 && raw) {
    list.push({
      id: 'latency-raw',
      text: 'cycleMs 0: round-trip p99 ≤ 2 × raw ws echo p99',
      measured: `${ours0.p99.toFixed(3)} ms vs 2 × ${raw.p99.toFixed(3)} ms (${(ours0.p99 / raw.p99).toFixed(2)} ×)`,
      pass: ours0.p99 <= 2 * raw.p99,
    });
  }
  if (ours10) {
    list.push({ id: 'latency-cycle', text: 'cycleMs 10: round-trip p99 ≤ 12 ms', measured: `${ours10.p99.toFixed(3)} ms`, pass: ours10.p99 <= 12 });
  }
  for (const row of results.fanout) {
    const equal = Math.abs(row.encodesPerCycle - row.distinctSubscriptions) < 0.01;
    list.push({
      id: `fanout-encodes-${row.clients}`,
      text: `fan-out, ${row.clients} client(s): encodes/cycle = distinct subscriptions`,
      measured: `${row.encodesPerCycle.toFixed(3)} encodes/cycle, ${row.distinctSubscriptions} distinct subscriptions, ${row.clients} client(s)`,
      pass: equal,
    });
  }
  const hundred = results.fanout.find((row) => row.clients === 100);
  if (hundred) {
    list.push({
      id: 'fanout-cpu',
      text: 'fan-out: 100 clients, 1,000 signals at 100 Hz < 1 core',
      measured: `${hundred.cpuPercent.toFixed(1)} % of one core (${hundred.cpuMsPerCycle.toFixed(3)} ms CPU per cycle)`,
      pass: hundred.cpuPercent < 100,
    });
  }
  const m = results.memory;
  if (m) {
    list.push({ id: 'memory-signal', text: 'memory ≤ 300 B per declared signal beyond its name and value', measured: `${m.bytesPerSignal.toFixed(0)} B`, pass: m.bytesPerSignal <= 300 });
    const worst = Math.max(m.heapPerClient, m.rssPerClient);
    list.push({
      id: 'memory-client',
      text: 'memory ≤ 64 KiB per idle client (the larger of heap+external and RSS)',
      measured: `${(m.heapPerClient / 1024).toFixed(1)} KiB heap+external, ${(m.rssPerClient / 1024).toFixed(1)} KiB RSS`,
      pass: worst <= 64 * 1024,
    });
  }
  const minvr = (direction: string, variant: string): MinVRRow | undefined => (results.minvr ?? []).find((row) => row.direction === direction && row.variant === variant);
  const sendRaw = minvr('send', 'raw');
  const sendEngine = minvr('send', 'engine');
  if (sendRaw && sendEngine) {
    const r = sendEngine.eventsPerSec / sendRaw.eventsPerSec;
    list.push({
      id: 'minvr-send',
      text: `MinVR3 send ≥ ${MINVR_SEND_TARGET} × raw net.Socket writing pre-encoded frames (events/s over TCP JSON)`,
      measured: `${r.toFixed(2)} × (${si(sendEngine.eventsPerSec)} vs ${si(sendRaw.eventsPerSec)} events/s)`,
      pass: r >= MINVR_SEND_TARGET,
    });
  }
  // The engine coalesces the writes of one turn; this says what is left once the baseline does so too.
  const sendCorked = minvr('send', 'corked');
  if (sendCorked && sendEngine) {
    list.push({
      id: 'minvr-send-corked',
      text: 'MinVR3 send against a raw net.Socket that also corks each turn (no target)',
      measured: `${(sendEngine.eventsPerSec / sendCorked.eventsPerSec).toFixed(2)} × (${si(sendEngine.eventsPerSec)} vs ${si(sendCorked.eventsPerSec)} events/s)`,
      pass: null,
    });
  }
  // Receiving has no target: the engine parses and checks every event, which the raw socket does not.
  const receiveEngine = minvr('receive', 'engine');
  const receiveBaselines = [minvr('receive', 'raw'), minvr('receive', 'json')].filter((row): row is MinVRRow => row !== undefined);
  if (receiveEngine && receiveBaselines.length > 0) {
    list.push({
      id: 'minvr-receive',
      text: 'MinVR3 receive against a raw net.Socket (no target)',
      measured: receiveBaselines
        .map((row) => `${(receiveEngine.eventsPerSec / row.eventsPerSec).toFixed(2)} × ${MINVR_VARIANT_NAMES[row.variant]} (${si(row.eventsPerSec)})`)
        .join(', ')
        .concat(`; engine ${si(receiveEngine.eventsPerSec)} events/s`),
      pass: null,
    });
  }
  const stateRow = (variant: string): StateRow | undefined => (results.state ?? []).find((row) => row.variant === variant);
  const stateNode = stateRow('node');
  const stateCopy = stateRow('copy');
  if (stateNode && stateCopy) {
    list.push({
      id: 'state-output',
      text: 'realvirtual-in "state", 100 k signals, small frames at 20/s: CPU per message ≤ 1/10 of a copy per message',
      measured: `${(stateCopy.cpuMsPerMessage / stateNode.cpuMsPerMessage).toFixed(0)} × less (${stateNode.cpuMsPerMessage} ms vs ${stateCopy.cpuMsPerMessage} ms)`,
      pass: stateNode.cpuMsPerMessage * 10 <= stateCopy.cpuMsPerMessage,
    });
  }
  const monitor = results.monitor;
  if (monitor) {
    list.push({
      id: 'monitor-watch',
      text: `signal monitor: one editor watching ${si(monitor.signals)} signals at ${monitor.hz} Hz costs < ${MONITOR_TARGET_PERCENT} % of one core`,
      measured: `+${monitor.costPercent.toFixed(1)} % (${monitor.watchedPercent.toFixed(1)} % watched vs ${monitor.idleBeforePercent.toFixed(1)} / ${monitor.idleAfterPercent.toFixed(1)} % idle; ratio ${(monitor.watchedPercent / Math.max(0.1, (monitor.idleBeforePercent + monitor.idleAfterPercent) / 2)).toFixed(2)})`,
      pass: monitor.costPercent < MONITOR_TARGET_PERCENT,
    });
  }
  return list;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const resultsFile = path.join(repoRoot(), 'bench', 'results.json');
  if (options.reportOnly) {
    console.log(renderAll(JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Results));
    return;
  }
  const settings = settingsFor(options.quick);
  const run = new Run(options, settings);
  const started = Date.now();
  const info = machine();
  console.log(`realvirtual benchmarks, ${options.quick ? 'quick' : 'full'} run: ${info.cpu} (${info.cores} cores), Node.js ${info.node}, Node-RED ${info.nodeRed}`);
  if (options.cpuProf) console.log(`CPU profiles of the measured processes go to ${options.cpuProf}`);
  const results: Results = {
    version: 1,
    date: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    seconds: 0,
    machine: info,
    settings,
    ingest: [],
    emit: [],
    latency: [],
    fanout: [],
    memory: null,
    minvr: [],
    state: [],
    monitor: null,
    targets: [],
    failures: run.failures,
  };
  const keep = <T>(list: T[], row: T | null): void => {
    if (row) list.push(row);
  };

  if (options.only.has('ingest')) {
    console.log('\n1. ingest');
    for (const size of options.sizes) {
      for (const variant of ['ws', 'engine', 'diy', 'node'] as const) keep(results.ingest, await ingestCase(run, variant, size));
    }
  }
  if (options.only.has('emit')) {
    console.log('\n2. emit');
    for (const size of options.sizes) {
      keep(results.emit, await emitCase(run, 'ws', size, null));
      keep(results.emit, await emitCase(run, 'engine', size, 0));
      keep(results.emit, await emitCase(run, 'engine', size, CYCLE_MS));
      keep(results.emit, await emitCase(run, 'diy', size, null));
      keep(results.emit, await emitCase(run, 'node', size, 0));
      keep(results.emit, await emitCase(run, 'node', size, CYCLE_MS));
    }
  }
  if (options.only.has('latency')) {
    console.log('\n3. latency');
    keep(results.latency, await latencyCase(run, 'ws', null));
    keep(results.latency, await latencyCase(run, 'diy', null));
    keep(results.latency, await latencyCase(run, 'node', 0));
    keep(results.latency, await latencyCase(run, 'node', CYCLE_MS));
  }
  if (options.only.has('fanout')) {
    console.log('\n4. fan-out');
    for (const clients of FANOUT_CLIENTS) keep(results.fanout, await fanoutCase(run, clients));
  }
  if (options.only.has('memory')) {
    console.log('\n5. memory');
    results.memory = await memoryCase(run);
  }
  if (options.only.has('minvr')) {
    console.log('\n6. MinVR3 (TCP JSON)');
    for (const variant of ['raw', 'corked', 'engine'] as const) keep(results.minvr!, await minvrCase(run, 'send', variant));
    for (const variant of ['raw', 'json', 'engine'] as const) keep(results.minvr!, await minvrCase(run, 'receive', variant));
  }

  if (options.only.has('state')) {
    console.log('\n7. state output');
    for (const variant of ['copy', 'node'] as const) keep(results.state!, await stateCase(run, variant));
  }
  if (options.only.has('monitor')) {
    console.log('\n8. signal monitor');
    try {
      results.monitor = await monitorCase(options.quick ? 2000 : 5000);
      const m = results.monitor;
      console.log(
        `   Node-RED CPU: ${m.idleBeforePercent} % idle, ${m.watchedPercent} % with one editor watching, ${m.idleAfterPercent} % idle again: +${m.costPercent} % of one core (${m.framesPerSec} frames/s, ${si(m.bytesPerSec)} B/s to the editor; one signal changed ${m.signalChangesPerSec} times/s)`,
      );
    } catch (error) {
      run.failures.push({ case: 'monitor', error: (error as Error).message });
      console.log(`   broke: ${(error as Error).message}`);
    }
  }

  results.seconds = (Date.now() - started) / 1000;
  results.targets = targets(results);
  fs.writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${renderAll(results)}\n`);
  console.log(`Results: ${path.relative(process.cwd(), resultsFile) || resultsFile} (${Math.round(results.seconds)} s)`);
  if (run.failures.length > 0) {
    console.log(`${run.failures.length} scenario(s) broke.`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
