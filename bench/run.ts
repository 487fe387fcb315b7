/**
 * `npm run bench` — throughput, latency, fan-out and memory of the engine and the
 * nodes, each measured next to its baselines in the same run: raw `ws` + JSON (L) and
 * a flow of Node-RED core nodes that speaks the protocol by hand (DIY, bench/flows/diy.json);
 * and MinVR3 VREvents/s over TCP JSON, the engine against a raw `net.Socket`.
 *
 *   node dist/bench/run.js [--quick] [--only=ingest,emit,latency,fanout,memory,minvr,state,monitor] [--sizes=10,1000]
 *                          [--variants=ws,engine,node,diy] [--cpu-prof[=dir]] [--report]
 *   node dist/bench/run.js --compare a.json b.json
 *
 * --variants also picks the MinVR3 cases: ws = its raw net.Socket baselines, engine = the engine.
 *
 * --cpu-prof writes a CPU profile of every measured process (summarize one with
 * `node dist/bench/profile.js <file>`); --report prints the tables of bench/results.json.
 *
 * Every case runs in a fresh measured process (subject.ts) fed by a separate load
 * generator (peer.ts), on 127.0.0.1 only, both with glibc's malloc settings of malloc.ts,
 * and in the rounds of ingest, emit and MinVR3 every measured process on one CPU and every
 * peer on the others (affinity.ts). The cases compared with each other (the
 * variants of one size) start in fresh processes every round and take turns: in ingest,
 * emit and MinVR3 slice by slice of their windows (window.ts), the latency echoes ping by
 * ping. Every ratio is computed per round: its median and range over the rounds are what
 * the tables and targets show. The run prints the tables and writes
 * bench/results.json. It exits non-zero only when a scenario breaks (throws, times
 * out, receives nothing or wrong data), never because of a timing: the full run
 * prints PASS/MISS per target, the quick run (CI) prints them as indicative.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot } from '../test/repo';
import { compareResults } from './compare';
import { placementOfMachine, pin } from './affinity';
import { mallocEnv, mallocText, STEADY_MALLOC } from './malloc';
import { delay, si, SIZES } from './common';
import { Child } from './ipc';
import { Delta, delta, joinSlices, Measured, PeerMark, sliceOrder } from './window';
import { MONITOR_MALLOC, monitorCase, MONITOR_QUICK_ROUNDS, MONITOR_ROUNDS, MONITOR_TARGET_PERCENT, MonitorResult } from './monitor';
import type { FanoutArgs, FloodArgs, MinVRFloodArgs, MinVRSinkArgs, PingArgs, PingResult, StateFeedArgs } from './peer';
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
  Ratio,
  ratioCell,
  ratioText,
  renderAll,
  Results,
  Settings,
  StateRow,
  Target,
  VARIANT_NAMES,
  Window,
} from './report';
import { medianOf, medianRound, ratioOf } from './rounds';
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
    ? {
        rounds: 2,
        roundsPerProcess: 2,
        warmupMs: 100,
        roundWarmupMs: 100,
        windowMs: 250,
        slices: 2,
        sliceSettleMs: 50,
        manyRounds: 2,
        roundTrips: 200,
        roundTripWarmup: 20,
        roundTripWarmupMs: 100,
        fanoutWindowMs: 300,
        memorySignals: 100000,
        idleClients: 100,
        malloc: STEADY_MALLOC,
      }
    : {
        rounds: 5,
        roundsPerProcess: 1,
        warmupMs: 1000,
        roundWarmupMs: 300,
        windowMs: 1000,
        slices: 4,
        sliceSettleMs: 150,
        manyRounds: 9,
        roundTrips: 20000,
        roundTripWarmup: 100,
        roundTripWarmupMs: 3000,
        fanoutWindowMs: 5000,
        memorySignals: 100000,
        idleClients: 100,
        malloc: STEADY_MALLOC,
      };
}

const FANOUT_CLIENTS = [1, 10, 100];
/** Windows measured again because other processes disturbed them, at most, per run (bounds the run time). */
const MAX_RETRIES = 80;
/** A flooding peer stops by itself after this long, paused or not (its side's rounds end long before). */
const FLOOD_MAX_MS = 10 * 60 * 1000;
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
/** The throughput targets, judged on the median of the per-round ratios at every size. */
const ENGINE_INGEST_TARGET = 1.0;
const IN_INGEST_TARGET = 2.0;
const OUT_EMIT_TARGET = 1.5;

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
  /** The rounds of the comparison running now. */
  rounds: number;

  constructor(
    readonly options: Options,
    readonly settings: Settings,
  ) {
    this.rounds = settings.rounds;
  }

  wants(variant: string): boolean {
    return this.options.variants === null || this.options.variants.has(variant);
  }

  /** Starts a fresh measured process and load generator for one case, and always ends both. */
  async withProcesses<T>(label: string, fn: (subject: Child, peer: Child) => Promise<T>, memory = false): Promise<T | null> {
    const started = Date.now();
    let pair: Pair | null = null;
    try {
      pair = await this.startPair(label, memory);
      return await fn(pair.subject, pair.peer);
    } catch (error) {
      this.broke(label, error);
      return null;
    } finally {
      await endPair(pair);
      const took = (Date.now() - started) / 1000;
      if (process.env.BENCH_TIMING || took > 120) console.log(`  (${label} took ${took.toFixed(1)} s)`);
    }
  }

  /**
   * The sides of A/B comparisons, each side in its own fresh pair of processes every round.
   * Each side's window of a round is measured in `slices` parts that take turns with the
   * other sides' (A B C, B C A, C A B), while the others wait idle: a slower second of the
   * machine then falls on every side of the round alike instead of on whichever side's window
   * it came in. A side's first slice of a round warms up in full, its later ones only let the
   * resumed load settle for `sliceSettleMs`. Several comparisons (for example the
   * sizes of ingest) take their rounds in turn, round 1 of each, then round 2 of each, …, so
   * that a slower spell of the machine, which can last minutes, falls on a round or two of
   * each rather than on every round of one. Returns each comparison's sides' rows.
   */
  sliced<Row>(comparisons: Array<Array<LoadedSide<Row> | null>>, rounds = this.settings.rounds): Promise<Array<Array<Row[] | null>>> {
    const slices = Math.max(1, this.settings.slices ?? 1);
    const sliceMs = this.settings.windowMs / slices;
    return this.inRounds(comparisons, rounds, async (live, turn) => {
      const parts = live.map((): Measured[] => []);
      for (let slice = 0; slice < slices; slice++) {
        for (const index of sliceOrder(live.length, turn, slice)) {
          const entry = live[index];
          if (entry.broken) continue;
          const { subject, peer } = entry.pair;
          try {
            await entry.side.load(subject, peer);
            parts[index].push(await this.window(subject, peer, sliceMs, slice === 0 ? warmupOf(this, turn) : (this.settings.sliceSettleMs ?? 0)));
            await entry.side.unload(subject, peer);
          } catch (error) {
            this.fail(entry, error);
          }
        }
      }
      live.forEach((entry, index) => {
        if (entry.broken) return;
        try {
          entry.rows.push(entry.side.row(joinSlices(parts[index]), turn));
        } catch (error) {
          this.fail(entry, error);
        }
      });
    });
  }

  /**
   * The sides of one comparison, each in its own fresh pair of processes every round, all
   * measured at once in each round by `measure`, which gets every whole side with its pair
   * and returns one row for each in the same order (for example one pinger taking turns over
   * every side's echo, ping by ping).
   */
  async together<Row, S extends Side>(sides: Array<S | null>, measure: (live: Array<WholeSide<Row, S>>, round: number) => Promise<Row[]>, rounds = this.settings.rounds): Promise<Array<Row[] | null>> {
    const [rows] = await this.inRounds<Row, S>([sides], rounds, async (live, round) => {
      try {
        const measured = await measure(live, round);
        live.forEach((entry, index) => entry.rows.push(measured[index]));
      } catch (error) {
        for (const entry of live) this.fail(entry, error);
      }
    });
    return rows;
  }

  /**
   * Sets up every side of a comparison in its own pair of processes, runs `round` for the
   * sides still whole, and ends the processes; a fresh pair per side every `roundsPerProcess`
   * rounds, so that what differs from one process to the next (hash seeds, heap layout, what
   * the JIT chose) is sampled as often as a round, not fixed for a whole run. The comparisons
   * take their rounds in turn. Returns each comparison's sides' rows, null for a side that broke.
   */
  private async inRounds<Row, S extends Side>(
    comparisons: Array<Array<S | null>>,
    rounds: number,
    round: (live: Array<WholeSide<Row, S>>, round: number) => Promise<void>,
  ): Promise<Array<Array<Row[] | null>>> {
    const started = Date.now();
    this.rounds = rounds;
    const all = comparisons.map((sides): Array<LiveSide<Row, S> | null> => sides.map((side) => (side ? { side, pair: null, rows: [], broken: false } : null)));
    const perProcess = this.roundsPerProcess;
    for (let first = 0; first < rounds; first += perProcess) {
      for (const live of all) await this.roundsInProcesses(live, first, Math.min(rounds, first + perProcess), round);
    }
    const sides = all.reduce((sum, live) => sum + live.filter((entry) => entry).length, 0);
    if (process.env.BENCH_TIMING) console.log(`  (${sides} sides × ${rounds} rounds took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return all.map((live) => live.map((entry) => (entry && !entry.broken ? entry.rows : null)));
  }

  /** Rounds `first` to `end` (exclusive) of one comparison, each side in a fresh pair of processes. */
  private async roundsInProcesses<Row, S extends Side>(
    live: Array<LiveSide<Row, S> | null>,
    first: number,
    end: number,
    round: (live: Array<WholeSide<Row, S>>, round: number) => Promise<void>,
  ): Promise<void> {
    try {
      await Promise.all(
        live.map(async (entry) => {
          if (!entry || entry.broken) return;
          try {
            entry.pair = await this.startPair(entry.side.label, false, !entry.side.unpinned);
            await entry.side.setup(entry.pair.subject, entry.pair.peer);
          } catch (error) {
            this.fail(entry, error);
          }
        }),
      );
      for (let turn = first; turn < end; turn++) {
        const whole = live.filter((entry): entry is WholeSide<Row, S> => entry !== null && entry.pair !== null && !entry.broken);
        if (whole.length > 0) await round(whole, turn);
      }
    } finally {
      await Promise.all(
        live.map(async (entry) => {
          if (!entry) return;
          await endPair(entry.pair);
          entry.pair = null;
        }),
      );
    }
  }

  /** True for the first round in fresh processes: it warms them up in full. */
  freshAt(turn: number): boolean {
    return turn % this.roundsPerProcess === 0;
  }

  private get roundsPerProcess(): number {
    return Math.max(1, this.settings.roundsPerProcess ?? this.settings.rounds);
  }

  private fail<Row, S extends Side>(entry: LiveSide<Row, S>, error: unknown): void {
    entry.broken = true;
    this.broke(entry.side.label, error);
  }

  private broke(label: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failures.push({ case: label, error: message });
    console.log(`  ${label}: BROKEN — ${message}`);
  }

  /** Fresh processes for a case; `pinned`: placed as affinity.ts says, if the machine allows. */
  private async startPair(label: string, memory = false, pinned = false): Promise<Pair> {
    const execArgv = memory ? ['--expose-gc'] : [];
    if (this.options.cpuProf && !memory) {
      fs.mkdirSync(this.options.cpuProf, { recursive: true });
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${this.options.cpuProf}`, `--cpu-prof-name=${String(++this.profiled).padStart(2, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
    }
    // The memory scenario keeps glibc's defaults: its heap and RSS figures are what a user's process shows.
    const env = mallocEnv(memory ? null : (this.settings.malloc ?? null));
    const [s, p] = await Promise.allSettled([Child.start('subject', `measured process (${label})`, execArgv, env), Child.start('peer', `peer (${label})`, [], env)] as const);
    if (s.status === 'fulfilled' && p.status === 'fulfilled') {
      const pair = { subject: s.value, peer: p.value };
      const placement = this.settings.placement;
      if (!placement || !pinned) return pair;
      try {
        pin(pair.subject.pid!, placement.subjects);
        pin(pair.peer.pid!, placement.peers);
        return pair;
      } catch (error) {
        await endPair(pair);
        throw error;
      }
    }
    await Promise.all([s.status === 'fulfilled' ? s.value.close() : null, p.status === 'fulfilled' ? p.value.close() : null]);
    throw s.status === 'rejected' ? s.reason : (p as PromiseRejectedResult).reason;
  }

  /**
   * Warm-up, then a window between two marks of both processes. The machine's other
   * load is measured too; in a full run a window disturbed by it is measured once more
   * (within a budget for the whole run) and the less disturbed one is kept.
   */
  async window(subject: Child, peer: Child, windowMs = this.settings.windowMs, warmupMs = this.settings.warmupMs): Promise<Measured> {
    await delay(warmupMs);
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

interface Pair {
  subject: Child;
  peer: Child;
}

async function endPair(pair: Pair | null): Promise<void> {
  if (!pair) return;
  await pair.peer.call('stop', undefined, 10000).catch(() => undefined);
  await pair.subject.call('teardown', undefined, 20000).catch(() => undefined);
  await Promise.all([pair.peer.close(), pair.subject.close()]);
}

/** One side of an A/B comparison: `setup` once in its processes, then measured once per round. */
interface Side {
  label: string;
  /**
   * Runs where the scheduler puts it instead of on the measured processes' CPU (affinity.ts):
   * an echo's round trips include V8's helper threads running beside its main thread, as they
   * do in a user's Node-RED; on one CPU they take turns, and the cycleMs 10 p99 grew from
   * 9.9 to 12.1 ms.
   */
  unpinned?: boolean;
  setup(subject: Child, peer: Child): Promise<void>;
}

/** A side under a load it starts and stops, measured by the run in slices (Run.sliced). */
interface LoadedSide<Row> extends Side {
  /** Starts the load; returns once it arrives. */
  load(subject: Child, peer: Child): Promise<void>;
  /** Stops the load; returns once the last of it is processed. */
  unload(subject: Child, peer: Child): Promise<void>;
  /** The side's row of one round, from its slices joined into one window. */
  row(w: Measured, round: number): Row;
}

/** A side while its rounds run: `pair` stays null if its processes failed to start. */
interface LiveSide<Row, S extends Side = Side> {
  side: S;
  pair: Pair | null;
  rows: Row[];
  broken: boolean;
}

type WholeSide<Row, S extends Side = Side> = LiveSide<Row, S> & { pair: Pair };

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

/** Polls until `counter` of the child stops moving: the load of the last window is drained before the next side's window. */
async function waitQuiet(child: Child, counter: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let still = 0;
  for (;;) {
    const value = (await child.call<PeerMark>('mark')).counters[counter];
    still = value === last ? still + 1 : 0;
    if (still === 3) return;
    if (Date.now() > deadline) throw new Error(`${counter} still moving ${timeoutMs} ms after the load stopped`);
    last = value;
    await delay(50);
  }
}

/** Waits until `counter` of the child passes its value when called (the resumed load arrived). */
async function waitMoving(child: Child, counter: string, what: string): Promise<void> {
  const before = (await child.call<PeerMark>('mark')).counters[counter];
  // Generous: on a machine crowded by other jobs a Node-RED flow may get little CPU for a while.
  await waitFor(child, (c) => c[counter] > before, what, 30000);
}

/** The first round in fresh processes warms them up; later ones only the resumed load. */
function warmupOf(run: Run, turn: number): number {
  return run.freshAt(turn) ? run.settings.warmupMs : run.settings.roundWarmupMs;
}

function roundTag(run: Run, turn: number): string {
  return `r${turn + 1}/${run.rounds}`;
}

function ingestSide(run: Run, variant: Variant, size: number): LoadedSide<IngestRow> | null {
  if (!run.wants(variant)) return null;
  const label = `ingest ${size} ${VARIANT_NAMES[variant]}`;
  return {
    label,
    setup: async (subject, peer) => {
      const spec: CaseSpec = { scenario: 'ingest', variant, size };
      const { url } = await subject.call<SetupResult>('setup', spec, 60000);
      await peer.call('flood', { url, size, maxMs: FLOOD_MAX_MS, paused: true } satisfies FloodArgs);
    },
    load: async (subject, peer) => {
      await peer.call('resume');
      await waitMoving(subject, 'messages', 'the first message to be processed');
    },
    unload: async (subject, peer) => {
      await peer.call('pause');
      await waitQuiet(subject, 'messages');
    },
    row: (w, turn) => {
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
        messagesPerCpuSec: round(c.messages / (w.subject.cpuMs / 1000)),
      };
      console.log(
        `  ${label.padEnd(34)} ${roundTag(run, turn)} ${si(row.messagesPerSec).padStart(8)} msg/s ${si(row.signalsPerSec).padStart(8)} signals/s (${si(row.messagesPerCpuSec!)} msg per CPU-s)  cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)`,
      );
      return row;
    },
  };
}

function emitSide(run: Run, variant: Variant, size: number, cycleMs: number | null): LoadedSide<EmitRow> | null {
  if (!run.wants(variant)) return null;
  const label = `emit ${size} ${VARIANT_NAMES[variant]}${cycleMs === null ? '' : ` cycleMs ${cycleMs}`}`;
  return {
    label,
    setup: async (subject, peer) => {
      const spec: CaseSpec = { scenario: 'emit', variant, size, cycleMs: cycleMs ?? 0 };
      const { url } = await subject.call<SetupResult>('setup', spec, 60000);
      await peer.call('sink', { url });
      await delay(50);
    },
    load: async (subject, peer) => {
      await subject.call('start');
      await waitMoving(peer, 'signals', 'the first signals on the wire');
    },
    unload: async (subject, peer) => {
      await subject.call('stop');
      await waitQuiet(peer, 'signals');
    },
    row: (w, turn) => {
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
        signalsPerCpuSec: round(p.signals / (w.subject.cpuMs / 1000)),
      };
      console.log(
        `  ${label.padEnd(34)} ${roundTag(run, turn)} ${si(row.signalsPerSec).padStart(8)} signals/s sent (${si(row.framesPerSec)} frames/s, ${si(row.signalsPerCpuSec!)} per CPU-s), ${si(row.writtenSignalsPerSec)} signals/s written   cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)${row.overflowed ? ' OVERFLOWED' : ''}`,
      );
      return row;
    },
  };
}

/** A latency side: an echo of one variant, set up in its own measured process. */
interface EchoSide extends Side {
  variant: 'ws' | 'node' | 'diy';
  cycleMs: number | null;
  url: string;
}

function latencySide(run: Run, variant: 'ws' | 'node' | 'diy', cycleMs: number | null): EchoSide | null {
  if (!run.wants(variant)) return null;
  const side: EchoSide = {
    label: `latency ${variant === 'ws' ? 'raw ws echo' : variant === 'diy' ? 'DIY flow' : `in → out cycleMs ${cycleMs}`}`,
    unpinned: true,
    variant,
    cycleMs,
    url: '',
    setup: async (subject) => {
      const spec: CaseSpec = { scenario: 'echo', variant, cycleMs: cycleMs ?? 0 };
      side.url = (await subject.call<SetupResult>('setup', spec, 60000)).url;
    },
  };
  return side;
}

/**
 * One round of round trips to each side's echo from one pinger, which takes turns over the
 * echoes ping by ping: their round trips share the machine's load of every moment, so that
 * a ratio of their percentiles is not moved by a slower second of the machine. Each round
 * measures its share of the round trips (after a full warm-up in the first); the pinger
 * opens new connections per round.
 */
async function pingEchoes(run: Run, sides: EchoSide[], peer: Child, turn: number): Promise<LatencyRow[]> {
  const thinkMaxMs = Math.max(...sides.map((side) => side.cycleMs ?? 0));
  const count = Math.ceil(run.settings.roundTrips / run.settings.rounds);
  const warmup = run.settings.roundTripWarmup;
  const warmupMs = run.freshAt(turn) ? run.settings.roundTripWarmupMs : run.settings.roundWarmupMs;
  const maxMs = warmupMs + (count + warmup) * sides.length * (thinkMaxMs + 25) + 30000;
  const args: PingArgs = { urls: sides.map((side) => side.url), count, warmup, warmupMs, thinkMaxMs, timeoutMs: 5000, maxMs };
  const busy0 = machineBusyMs();
  const results = await peer.call<PingResult[]>('ping', args, maxMs + 30000);
  const busyMs = machineBusyMs() - busy0;
  return results.map((result, index) => {
    const { label, variant, cycleMs } = sides[index];
    // The pinger and the echoes are mostly idle: everything else the machine did counts as other load (an upper bound).
    const backgroundPercent = round(Math.max(0, (busyMs / (result.seconds * 1000)) * 100), 1);
    expect(result.n > 0, `${label}: no round trip completed`);
    const row: LatencyRow = { variant, cycleMs, thinkMaxMs, ...result, backgroundPercent };
    console.log(
      `  ${label.padEnd(34)} ${roundTag(run, turn)} p50 ${row.p50.toFixed(3)} ms  p99 ${row.p99.toFixed(3)} ms  max ${row.max.toFixed(3)} ms  (${row.n} round trips after ${row.warmup} to warm up, ${row.seconds.toFixed(1)} s, machine busy ${row.backgroundPercent}%)`,
    );
    return row;
  });
}

/** The rounds of one latency case as one row: the median of each percentile, the largest maximum, the sums of the counts. */
function combineLatency(rows: LatencyRow[]): LatencyRow {
  const median = (pick: (row: LatencyRow) => number): number => medianOf(rows.map(pick));
  return {
    ...rows[0],
    n: rows.reduce((sum, row) => sum + row.n, 0),
    p50: median((row) => row.p50),
    p90: median((row) => row.p90),
    p99: median((row) => row.p99),
    p999: median((row) => row.p999),
    mean: median((row) => row.mean),
    max: Math.max(...rows.map((row) => row.max)),
    completed: rows.every((row) => row.completed),
    seconds: round(
      rows.reduce((sum, row) => sum + row.seconds, 0),
      3,
    ),
    warmup: rows.reduce((sum, row) => sum + row.warmup, 0),
    backgroundPercent: median((row) => row.backgroundPercent),
    rounds: rows.map((row) => row.p99),
  };
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

function minvrSide(run: Run, direction: 'send' | 'receive', variant: MinVRVariant): LoadedSide<MinVRRow> | null {
  if (!run.wants(variant === 'engine' ? 'engine' : 'ws')) return null;
  if (direction === 'send' && variant === 'json') throw new Error('no JSON.parse variant of sending');
  if (direction === 'receive' && variant === 'corked') throw new Error('no corked variant of receiving');
  const label = `minvr ${direction} ${MINVR_VARIANT_NAMES[variant]}`;
  const sending = direction === 'send';
  return {
    label,
    setup: async (subject, peer) => {
      const spec: CaseSpec = { scenario: sending ? 'minvr-send' : 'minvr-receive', variant } as CaseSpec;
      const { url } = await subject.call<SetupResult>('setup', spec, 60000);
      if (sending) await peer.call('minvrSink', { url } satisfies MinVRSinkArgs);
      else await peer.call('minvrFlood', { url, maxMs: FLOOD_MAX_MS, paused: true } satisfies MinVRFloodArgs);
    },
    load: async (subject, peer) => {
      if (sending) {
        await subject.call('start', undefined, 10000);
        await waitMoving(peer, 'frames', 'the first frames at the peer');
      } else {
        await peer.call('resume');
        await waitMoving(subject, 'events', 'the first event to be received');
      }
    },
    unload: async (subject, peer) => {
      if (sending) {
        await subject.call('stop');
        await waitQuiet(peer, 'frames');
      } else {
        await peer.call('pause');
        await waitQuiet(subject, 'events');
      }
    },
    row: (w, turn) => {
      let eventsPerSec: number;
      let writtenPerSec: number;
      if (sending) {
        expect(w.peer.counters.frames > 0, 'no frame reached the peer in the measured window');
        expect(w.peer.counters.wrong === 0, `${w.peer.counters.wrong} sampled frame(s) were not the tracker events sent`);
        eventsPerSec = w.peer.counters.frames / w.peer.seconds;
        writtenPerSec = w.subject.counters.written / w.subject.seconds;
      } else {
        expect(w.subject.counters.events > 0, 'nothing was received in the measured window');
        expect(w.subject.counters.wrong === 0, `${w.subject.counters.wrong} frame(s) were not Vector3 events`);
        eventsPerSec = w.subject.counters.events / w.subject.seconds;
        // What the peer wrote; the receiver's backlog is bounded by the socket.
        writtenPerSec = w.peer.counters.frames / w.peer.seconds;
      }
      const frameBytes = w.peer.counters.bytes / w.peer.counters.frames;
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
        `  ${label.padEnd(34)} ${roundTag(run, turn)} ${si(row.eventsPerSec).padStart(8)} events/s ${direction === 'send' ? 'delivered' : 'received'} (${si(row.writtenPerSec)} written/s${paused}, ${si(row.eventsPerSec / (row.subject.cpuPercent / 100))} per CPU-s)  cpu ${row.subject.cpuPercent}% (peer ${row.peer.cpuPercent}%, other ${row.backgroundPercent}%)`,
      );
      return row;
    },
  };
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
  const ratioById = (id: string): Ratio | undefined => (results.ratios ?? []).find((r) => r.id === id);
  const ingest = (variant: string, size: number): IngestRow | undefined => results.ingest.find((row) => row.variant === variant && row.size === size);
  const emit = (variant: string, size: number, cycleMs: number | null): EmitRow | undefined => results.emit.find((row) => row.variant === variant && row.size === size && row.cycleMs === cycleMs);
  const sizes = (rows: Array<{ size: number }>): number[] => [...new Set(rows.map((row) => row.size))].sort((a, b) => a - b);
  for (const size of sizes(results.ingest)) {
    const r = ratioById(`ingest-engine-${size}`);
    const [l, engine] = [ingest('ws', size), ingest('engine', size)];
    if (r && l && engine) {
      list.push({
        id: `engine-ingest-${size}`,
        text: `engine ingest ≥ ${ENGINE_INGEST_TARGET} × L (raw ws + JSON.parse) at ${size} signals/msg`,
        measured: `${ratioText(r)} (${si(engine.messagesPerCpuSec ?? engine.messagesPerSec)} vs ${si(l.messagesPerCpuSec ?? l.messagesPerSec)} msg per CPU-s)`,
        pass: r.median >= ENGINE_INGEST_TARGET,
      });
    }
  }
  for (const size of sizes(results.ingest)) {
    const r = ratioById(`ingest-in-${size}`);
    const [diy, node] = [ingest('diy', size), ingest('node', size)];
    if (r && diy && node) {
      list.push({
        id: `in-ingest-${size}`,
        text: `realvirtual-in ingest ≥ ${IN_INGEST_TARGET} × DIY at ${size} signals/msg`,
        measured: `${ratioText(r)} (${si(node.messagesPerCpuSec ?? node.messagesPerSec)} vs ${si(diy.messagesPerCpuSec ?? diy.messagesPerSec)} msg per CPU-s)`,
        pass: r.median >= IN_INGEST_TARGET,
      });
    }
  }
  for (const size of sizes(results.emit)) {
    const r = ratioById(`emit-out0-${size}`);
    const [diy, out0] = [emit('diy', size, null), emit('node', size, 0)];
    if (r && diy && out0) {
      list.push({
        id: `out-emit-${size}`,
        text: `realvirtual-out (cycleMs 0) emit ≥ ${OUT_EMIT_TARGET} × DIY at ${size} signals/msg`,
        measured: `${ratioText(r)} (${si(out0.signalsPerCpuSec ?? out0.signalsPerSec)} vs ${si(diy.signalsPerCpuSec ?? diy.signalsPerSec)} signals per CPU-s)`,
        pass: r.median >= OUT_EMIT_TARGET,
      });
    }
  }
  const latency = (variant: string, cycleMs: number | null): LatencyRow | undefined => results.latency.find((row) => row.variant === variant && row.cycleMs === cycleMs);
  const ours0 = latency('node', 0);
  const ours10 = latency('node', CYCLE_MS);
  const diy = latency('diy', null);
  const raw = latency('ws', null);
  const latencyDiy = ratioById('latency-p99-diy');
  const latencyRaw = ratioById('latency-p99-raw');
  if (ours0 && diy && latencyDiy) {
    list.push({
      id: 'latency-diy',
      text: 'latency p99 (cycleMs 0) ≤ DIY p99',
      measured: `${latencyDiy.median.toFixed(2)} × [${latencyDiy.min.toFixed(2)}–${latencyDiy.max.toFixed(2)}] (${ours0.p99.toFixed(3)} ms vs ${diy.p99.toFixed(3)} ms)`,
      pass: latencyDiy.median <= 1,
    });
  }
  if (ours0 && raw && latencyRaw) {
    list.push({
      id: 'latency-raw',
      text: 'cycleMs 0: round-trip p99 ≤ 2 × raw ws echo p99',
      measured: `${latencyRaw.median.toFixed(2)} × [${latencyRaw.min.toFixed(2)}–${latencyRaw.max.toFixed(2)}] (${ours0.p99.toFixed(3)} ms vs ${raw.p99.toFixed(3)} ms)`,
      pass: latencyRaw.median <= 2,
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
  const sendRatio = ratioById('minvr-send-raw');
  if (sendRaw && sendEngine && sendRatio) {
    list.push({
      id: 'minvr-send',
      text: `MinVR3 send ≥ ${MINVR_SEND_TARGET} × raw net.Socket writing pre-encoded frames (events/s over TCP JSON)`,
      measured: `${ratioText(sendRatio)} (${si(sendEngine.eventsPerSec)} vs ${si(sendRaw.eventsPerSec)} events/s)`,
      pass: sendRatio.median >= MINVR_SEND_TARGET,
    });
  }
  // The engine coalesces the writes of one turn; this says what is left once the baseline does so too.
  const sendCorked = minvr('send', 'corked');
  const corkedRatio = ratioById('minvr-send-corked');
  if (sendCorked && sendEngine && corkedRatio) {
    list.push({
      id: 'minvr-send-corked',
      text: 'MinVR3 send against a raw net.Socket that also corks each turn (no target)',
      measured: `${ratioText(corkedRatio)} (${si(sendEngine.eventsPerSec)} vs ${si(sendCorked.eventsPerSec)} events/s)`,
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
        .map((row) => `${ratioCell(results, `minvr-receive-${row.variant}`, receiveEngine.eventsPerSec, row.eventsPerSec)} of ${MINVR_VARIANT_NAMES[row.variant]} (${si(row.eventsPerSec)})`)
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
  const defaultMalloc = results.monitorDefaultMalloc;
  // Results written before the windows alternated have no per-window costs.
  if (monitor && Array.isArray(monitor.costs)) {
    list.push({
      id: 'monitor-watch',
      text: `signal monitor: one editor watching ${si(monitor.signals)} signals at ${monitor.hz} Hz costs < ${MONITOR_TARGET_PERCENT} % of one core`,
      measured: `${monitorCostText(monitor)} (median of ${monitor.costs.length} watched windows, each against the idle ones around it; ${medianOf(monitor.watchedPercents).toFixed(1)} % watched vs ${medianOf(monitor.idlePercents).toFixed(1)} % idle; ${mallocOf(monitor)}${defaultMalloc ? `; glibc's defaults: ${monitorCostText(defaultMalloc)}, ${medianOf(defaultMalloc.idlePercents).toFixed(1)} % idle` : ''})`,
      pass: monitor.costPercent < MONITOR_TARGET_PERCENT,
    });
  }
  return list;
}

function mallocOf(m: MonitorResult): string {
  return mallocText({ trimThreshold: m.mallocTrimThreshold ?? undefined, mmapThreshold: m.mallocMmapThreshold ?? undefined });
}

/** "+3.1 % [+1.2–+4.0]": the median cost of a watching editor and its min–max, in % of one core. */
function monitorCostText(m: MonitorResult): string {
  const signed = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
  return `${signed(m.costPercent)} % [${signed(m.costMinPercent)}–${signed(m.costMaxPercent)}]`;
}

// ---------------------------------------------------------------- main

function compareFiles(files: string[]): void {
  if (files.length !== 2) throw new Error('--compare takes two results files: --compare a.json b.json');
  const [a, b] = files.map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as Results);
  const comparison = compareResults(a, b, path.basename(files[0]), path.basename(files[1]));
  console.log(comparison.text);
  if (comparison.compared === 0) throw new Error('no ratio in both files (were they written before the sides alternated in rounds?)');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--compare') {
    compareFiles(argv.slice(1));
    return;
  }
  const options = parseOptions(argv);
  const resultsFile = path.join(repoRoot(), 'bench', 'results.json');
  if (options.reportOnly) {
    console.log(renderAll(JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Results));
    return;
  }
  const settings: Settings = { ...settingsFor(options.quick), placement: placementOfMachine() };
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
    monitorDefaultMalloc: null,
    ratios: [],
    targets: [],
    failures: run.failures,
  };
  const keep = <T>(list: T[], row: T | null): void => {
    if (row) list.push(row);
  };

  const ratios = results.ratios!;
  /** Keeps the median round of each side that finished its rounds; returns every side's figure per round. */
  const keepRounds = <Row extends object>(list: Row[], sides: Array<Row[] | null>, figure: (row: Row) => number): Array<number[] | null> =>
    sides.map((rows) => {
      if (!rows || rows.length === 0) return null;
      const row = medianRound(rows, figure);
      list.push(row);
      return row.rounds;
    });
  const ratio = (id: string, text: string, a: number[] | null, b: number[] | null): void => {
    if (a && b) ratios.push(ratioOf(id, text, a, b));
  };

  if (options.only.has('ingest')) {
    console.log('\n1. ingest');
    const bySize = await run.sliced(options.sizes.map((size) => (['ws', 'engine', 'diy', 'node'] as const).map((variant) => ingestSide(run, variant, size))));
    for (const [index, size] of options.sizes.entries()) {
      const [l, engine, diy, node] = keepRounds(results.ingest, bySize[index], (row) => row.messagesPerCpuSec!);
      ratio(`ingest-engine-${size}`, `engine / L ingest per CPU-s, ${size} signals/msg`, engine, l);
      ratio(`ingest-in-${size}`, `realvirtual-in / DIY ingest per CPU-s, ${size} signals/msg`, node, diy);
    }
  }
  if (options.only.has('emit')) {
    console.log('\n2. emit');
    const bySize = await run.sliced(
      options.sizes.map((size) => [
        emitSide(run, 'ws', size, null),
        emitSide(run, 'engine', size, 0),
        emitSide(run, 'engine', size, CYCLE_MS),
        emitSide(run, 'diy', size, null),
        emitSide(run, 'node', size, 0),
        emitSide(run, 'node', size, CYCLE_MS),
      ]),
    );
    for (const [index, size] of options.sizes.entries()) {
      const [, , , diy, out0] = keepRounds(results.emit, bySize[index], (row) => row.signalsPerCpuSec!);
      ratio(`emit-out0-${size}`, `realvirtual-out (cycleMs 0) / DIY emit per CPU-s, ${size} signals/msg`, out0, diy);
    }
  }
  if (options.only.has('latency')) {
    console.log('\n3. latency');
    const echoes = [latencySide(run, 'ws', null), latencySide(run, 'diy', null), latencySide(run, 'node', 0)];
    const pingRounds = (sides: Array<EchoSide | null>, rounds: number): Promise<Array<LatencyRow[] | null>> =>
      run.together<LatencyRow, EchoSide>(
        sides,
        (live, turn) =>
          pingEchoes(
            run,
            live.map((entry) => entry.side),
            live[0].pair.peer,
            turn,
          ),
        rounds,
      );
    const interleaved = await pingRounds(echoes, settings.manyRounds ?? settings.rounds);
    const cycled = await pingRounds([latencySide(run, 'node', CYCLE_MS)], settings.rounds);
    const sides = [...interleaved, ...cycled];
    const [raw, diy, node0] = sides.map((rows) => (rows && rows.length > 0 ? rows.map((row) => row.p99) : null));
    for (const rows of sides) if (rows && rows.length > 0) results.latency.push(combineLatency(rows));
    ratio('latency-p99-diy', 'round-trip p99: realvirtual-in → out (cycleMs 0) / DIY flow', node0, diy);
    ratio('latency-p99-raw', 'round-trip p99: realvirtual-in → out (cycleMs 0) / raw ws echo', node0, raw);
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
    const [send, receive] = await run.sliced(
      [(['raw', 'corked', 'engine'] as const).map((variant) => minvrSide(run, 'send', variant)), (['raw', 'json', 'engine'] as const).map((variant) => minvrSide(run, 'receive', variant))],
      settings.manyRounds,
    );
    const [raw, corked, engine] = keepRounds(results.minvr!, send, (row) => row.eventsPerSec);
    ratio('minvr-send-raw', 'MinVR3 send: engine / raw net.Socket', engine, raw);
    ratio('minvr-send-corked', 'MinVR3 send: engine / raw net.Socket corked per turn', engine, corked);
    const [rawIn, json, engineIn] = keepRounds(results.minvr!, receive, (row) => row.eventsPerSec);
    ratio('minvr-receive-raw', 'MinVR3 receive: engine / raw net.Socket', engineIn, rawIn);
    ratio('minvr-receive-json', 'MinVR3 receive: engine / raw net.Socket + JSON.parse', engineIn, json);
  }

  if (options.only.has('state')) {
    console.log('\n7. state output');
    for (const variant of ['copy', 'node'] as const) keep(results.state!, await stateCase(run, variant));
  }
  if (options.only.has('monitor')) {
    console.log('\n8. signal monitor');
    const windowMs = options.quick ? 2000 : 3500;
    const rounds = options.quick ? MONITOR_QUICK_ROUNDS : MONITOR_ROUNDS;
    // Judged with glibc's trimming held off (see MONITOR_MALLOC); with the defaults as well, for information.
    for (const malloc of [MONITOR_MALLOC, null]) {
      try {
        const m = await monitorCase(windowMs, rounds, malloc, malloc === null ? null : options.cpuProf);
        if (malloc === null) results.monitorDefaultMalloc = m;
        else results.monitor = m;
        console.log(`   ${mallocOf(m)}: Node-RED CPU, % of one core: idle ${m.idlePercents.join(' / ')}; one editor watching ${m.watchedPercents.join(' / ')}`);
        console.log(
          `   a watching editor costs ${monitorCostText(m)} of one core, per window ${m.costs.join(' ')} (${m.framesPerSec} frames/s, ${si(m.bytesPerSec)} B/s to the editor; one signal changed ${m.signalChangesPerSec} times/s)`,
        );
      } catch (error) {
        run.failures.push({ case: 'monitor', error: (error as Error).message });
        console.log(`   broke: ${(error as Error).message}`);
      }
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
