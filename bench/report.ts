/**
 * The results of a run, as stored in bench/results.json, and their rendering as
 * Markdown tables (printed by the runner and pasted into the README).
 */
import { bytes, LatencySummary, ms, si } from './common';
import type { Placement } from './affinity';
import { MallocSettings, mallocText } from './malloc';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  node: string;
  nodeRed: string;
  ws: string;
  package: string;
  commit: string | null;
}

export interface Settings {
  /** Windows per case; the sides of a comparison alternate, one window each per round. */
  rounds: number;
  /** Rounds measured in one set of processes before each side starts in fresh ones (absent in results written before: all rounds). */
  roundsPerProcess?: number;
  /** Warm-up of the first round in fresh processes. */
  warmupMs: number;
  /** Warm-up of every later round, once the paused load is resumed. */
  roundWarmupMs: number;
  /** A side's window of a round. */
  windowMs: number;
  /** In ingest, emit and MinVR3: the parts a window is measured in, taking turns with the other sides' (absent in results written before: one). */
  slices?: number;
  /** Settling time of a side's later slices of a round, after its load resumed. */
  sliceSettleMs?: number;
  /** Rounds of the comparisons whose single rounds spread most: the latency echoes with cycleMs 0 and MinVR3 (absent in results written before: `rounds`). */
  manyRounds?: number;
  /** Round trips per echo over `rounds` rounds; the echoes measured in `manyRounds` take as many per round (roundTrips / rounds). */
  roundTrips: number;
  /** Unmeasured round trips first: at least this many, for at least roundTripWarmupMs. */
  roundTripWarmup: number;
  roundTripWarmupMs: number;
  fanoutWindowMs: number;
  memorySignals: number;
  idleClients: number;
  /** glibc's malloc settings of the measured processes and their peers, except the memory scenario's (absent in results written before: glibc's defaults). */
  malloc?: MallocSettings | null;
  /** The CPUs of the measured processes and of their peers in ingest, emit and MinVR3 (absent in results written before, null: the scheduler's choice). */
  placement?: Placement | null;
}

export interface Window {
  seconds: number;
  /** CPU time of the process over wall time, in % of one core. */
  cpuPercent: number;
}

export interface IngestRow {
  variant: 'ws' | 'engine' | 'node' | 'diy';
  size: number;
  messagesPerSec: number;
  signalsPerSec: number;
  subject: Window;
  peer: Window;
  /** What the flooding peer sent per second (the receiver's backlog is bounded by the socket). */
  sentMessagesPerSec: number;
  /** CPU other processes of the machine used during the window, % of one core. */
  backgroundPercent: number;
  /** Messages per CPU-second of the measured process: its rate were it never kept from its core (absent in results written before rounds). */
  messagesPerCpuSec?: number;
  /** The row is the median round's by messagesPerCpuSec; messagesPerCpuSec of every round, in order. */
  rounds?: number[];
}

export interface EmitRow {
  variant: 'ws' | 'engine' | 'node' | 'diy';
  size: number;
  cycleMs: number | null;
  /** Messages (writes) per second the feeding loop got accepted. */
  writtenPerSec: number;
  writtenSignalsPerSec: number;
  /** Frames and signals per second that reached the peer. */
  framesPerSec: number;
  signalsPerSec: number;
  bytesPerSec: number;
  subject: Window;
  peer: Window;
  /** The feed was stopped because output piled up in memory (no backpressure). */
  overflowed: boolean;
  backgroundPercent: number;
  /** Signals that reached the peer per CPU-second of the measured process. */
  signalsPerCpuSec?: number;
  /** The row is the median round's by signalsPerCpuSec; signalsPerCpuSec of every round, in order. */
  rounds?: number[];
}

export interface LatencyRow extends LatencySummary {
  variant: 'ws' | 'node' | 'diy';
  cycleMs: number | null;
  thinkMaxMs: number;
  completed: boolean;
  seconds: number;
  warmup: number;
  /** CPU the whole machine used during the round trips, % of one core (the echo itself is mostly idle). */
  backgroundPercent: number;
  /** Percentiles and mean: the median over the rounds; n, seconds, warm-up: their sum; max: of all. p99 of every round, in order. */
  rounds?: number[];
}

export interface FanoutRow {
  clients: number;
  signals: number;
  distinctSubscriptions: number;
  groups: number;
  cyclesPerSec: number;
  encodesPerCycle: number;
  framesPerCycle: number;
  bytesPerCycle: number;
  bytesPerSec: number;
  cpuMsPerCycle: number;
  cpuPercent: number;
  receivedBytesPerSec: number;
  peerCpuPercent: number;
  backgroundPercent: number;
}

export interface MemoryResult {
  signals: number;
  heapUsedBefore: number;
  heapUsed: number;
  rss: number;
  rssBefore: number;
  external: number;
  nameValueBytes: number;
  bytesPerSignal: number;
  /** Added per signal once a client subscribed to everything (its group remembers what it was sent). */
  bytesPerSignalWithClient: number | null;
  idleClients: number;
  heapPerClient: number;
  rssPerClient: number;
}

export interface MinVRRow {
  /** send: the measured process sends, the peer counts complete frames; receive: the peer floods, the measured process counts. */
  direction: 'send' | 'receive';
  /** raw: a net.Socket that writes pre-encoded frames or reads only the length prefixes; corked: that writer corked per turn; json: that reader plus JSON.parse of each body; engine: MinVRServer. */
  variant: 'raw' | 'corked' | 'json' | 'engine';
  /** Events per second: complete frames at the peer (send) or events counted in the measured process (receive). */
  eventsPerSec: number;
  bytesPerSec: number;
  /** Average bytes of a frame on the wire, its 4-byte length included. */
  frameBytes: number;
  subject: Window;
  peer: Window;
  /** Events per second handed to the socket by the sender (the measured process when sending, the peer when receiving). */
  writtenPerSec: number;
  backgroundPercent: number;
  /** The row is the median round's; eventsPerSec of every round, in order. */
  rounds?: number[];
}

export interface StateRow {
  /** node: realvirtual-in's "state" output; copy: "changes" and a function that sends a copy of its merged state. */
  variant: 'node' | 'copy';
  signals: number;
  /** Small frames per second the peer sent (one changed signal each, after one frame of every signal). */
  framesPerSec: number;
  messagesPerSec: number;
  /** CPU of the measured process per state message. */
  cpuMsPerMessage: number;
  cpuPercent: number;
  /** Event-loop delay over the window. */
  loopP99Ms: number;
  loopMaxMs: number;
  heapUsed: number;
  rss: number;
  maxRss: number;
  backgroundPercent: number;
}
import type { MonitorResult } from './monitor';

export interface Target {
  id: string;
  text: string;
  measured: string;
  /** null: a figure printed beside the targets for information, never judged. */
  pass: boolean | null;
}

/** One side over the other, computed per round from the two windows of that round. */
export interface Ratio {
  id: string;
  text: string;
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

export interface Failure {
  case: string;
  error: string;
}

export interface Results {
  version: 1;
  date: string;
  mode: 'full' | 'quick';
  seconds: number;
  machine: Machine;
  settings: Settings;
  ingest: IngestRow[];
  emit: EmitRow[];
  latency: LatencyRow[];
  fanout: FanoutRow[];
  memory: MemoryResult | null;
  /** Absent in results written before the MinVR3 scenario existed. */
  minvr?: MinVRRow[];
  /** Absent in results written before the state scenario existed. */
  state?: StateRow[];
  /** Absent in results written before the signal monitor existed. */
  monitor?: MonitorResult | null;
  /** The same with glibc's default trimming, for information (absent in results written before). */
  monitorDefaultMalloc?: MonitorResult | null;
  /** Absent in results written before the sides alternated in rounds. */
  ratios?: Ratio[];
  targets: Target[];
  failures: Failure[];
}

export const VARIANT_NAMES: Record<string, string> = {
  ws: 'L: raw ws',
  engine: 'engine',
  node: 'node',
  diy: 'DIY flow',
};

function table(header: string[], rows: string[][], align: Array<'l' | 'r'>): string {
  const widths = header.map((title, column) => Math.max(title.length, 3, ...rows.map((row) => row[column].length)));
  const cell = (text: string, column: number): string => (align[column] === 'r' ? text.padStart(widths[column]) : text.padEnd(widths[column]));
  const line = (cells: string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (align[column] === 'r' ? `${'-'.repeat(width + 1)}:` : `:${'-'.repeat(width + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}

/** A ratio measured in rounds: its median and [min–max]. */
export function ratioText(r: Ratio): string {
  return `${r.median.toFixed(2)}× [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`;
}

/** The ratio `id` of the run, or for results written before rounds, the ratio of the two rows. */
export function ratioCell(results: Results, id: string, a: number | undefined, b: number | undefined): string {
  const measured = results.ratios?.find((r) => r.id === id);
  return measured ? ratioText(measured) : ratio(a, b);
}

/** Other processes of the machine using more than this (% of one core) during a window mark its figure with †. */
export const BACKGROUND_LIMIT = 20;

function mark(row: { backgroundPercent: number } | undefined): string {
  return row && row.backgroundPercent > BACKGROUND_LIMIT ? ' †' : '';
}

function rate(row: IngestRow | undefined): string {
  return row === undefined ? '–' : `${si(row.messagesPerSec)} / ${si(row.signalsPerSec)}${mark(row)}`;
}

export function renderMachine(results: Results): string {
  const m = results.machine;
  return [
    `${m.cpu}, ${m.cores} cores, ${bytes(m.memoryBytes)} RAM, ${m.platform}; Node.js ${m.node}, Node-RED ${m.nodeRed}, ws ${m.ws}; ` +
      `node-red-contrib-realvirtual ${m.package}${m.commit ? ` (${m.commit})` : ''}; ${results.date.slice(0, 10)}, ${results.mode} run (${Math.round(results.seconds)} s${results.settings.rounds ? `; ${results.settings.rounds} rounds of ${results.settings.windowMs / 1000} s windows` : ''}; measured processes with ${mallocText(results.settings.malloc)}${placementText(results.settings.placement)}).`,
  ].join('\n');
}

export function renderIngest(results: Results): string {
  const sizes = [...new Set(results.ingest.map((row) => row.size))].sort((a, b) => a - b);
  const find = (variant: string, size: number): IngestRow | undefined => results.ingest.find((row) => row.variant === variant && row.size === size);
  const rows = sizes.map((size) => {
    const [l, engine, diy, node] = ['ws', 'engine', 'diy', 'node'].map((variant) => find(variant, size));
    return [
      String(size),
      rate(l),
      rate(engine),
      ratioCell(results, `ingest-engine-${size}`, engine?.messagesPerSec, l?.messagesPerSec),
      rate(diy),
      rate(node),
      ratioCell(results, `ingest-in-${size}`, node?.messagesPerSec, diy?.messagesPerSec),
    ];
  });
  return table(['signals/msg', 'L: raw ws + JSON.parse', 'engine', 'engine/L', 'DIY flow', 'realvirtual-in', 'in/DIY'], rows, ['r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

export function renderEmit(results: Results): string {
  const sizes = [...new Set(results.emit.map((row) => row.size))].sort((a, b) => a - b);
  const find = (variant: string, size: number, cycleMs: number | null): EmitRow | undefined => results.emit.find((row) => row.variant === variant && row.size === size && row.cycleMs === cycleMs);
  const delivered = (row: EmitRow | undefined): string => (row ? `${si(row.signalsPerSec)}${row.overflowed ? ' (overflowed)' : ''}${mark(row)}` : '–');
  const rows = sizes.map((size) => {
    const l = find('ws', size, null);
    const e0 = find('engine', size, 0);
    const e10 = find('engine', size, 10);
    const diy = find('diy', size, null);
    const o0 = find('node', size, 0);
    const o10 = find('node', size, 10);
    return [
      String(size),
      delivered(l),
      delivered(e0),
      delivered(e10),
      delivered(diy),
      delivered(o0),
      ratioCell(results, `emit-out0-${size}`, o0?.signalsPerSec, diy?.signalsPerSec),
      delivered(o10),
      o10 ? `${si(o10.writtenSignalsPerSec)} → ${si(o10.signalsPerSec)}` : '–',
    ];
  });
  return table(['signals/msg', 'L: raw ws', 'engine 0 ms', 'engine 10 ms', 'DIY flow', 'out 0 ms', 'out 0 ms/DIY', 'out 10 ms', 'out 10 ms: written → sent'], rows, [
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
  ]);
}

export function renderLatency(results: Results): string {
  const name = (row: LatencyRow): string => (row.variant === 'ws' ? 'raw ws echo' : row.variant === 'diy' ? 'DIY flow' : `realvirtual-in → out, cycleMs ${row.cycleMs}`);
  const rows = results.latency.map((row) => [
    name(row),
    row.thinkMaxMs > 0 ? `0–${row.thinkMaxMs} ms` : 'none',
    `${row.n}${row.completed ? '' : ' (cut short)'}`,
    ms(row.p50),
    row.rounds && row.rounds.length > 1 ? `${ms(row.p99)} [${ms(Math.min(...row.rounds))}–${ms(Math.max(...row.rounds))}]` : ms(row.p99),
    ms(row.max),
  ]);
  return table(['round trip', 'pause before ping', 'n', 'p50', 'p99', 'max'], rows, ['l', 'r', 'r', 'r', 'r', 'r']);
}

export function renderFanout(results: Results): string {
  const rows = results.fanout.map((row) => [
    `${row.clients}${mark(row)}`,
    String(row.distinctSubscriptions),
    row.encodesPerCycle.toFixed(2),
    row.framesPerCycle.toFixed(1),
    ms(row.cpuMsPerCycle),
    `${row.cpuPercent.toFixed(1)} %`,
    bytes(row.bytesPerCycle),
    `${bytes(row.bytesPerSec)}/s`,
    row.cyclesPerSec.toFixed(0),
  ]);
  return table(['clients', 'distinct subscriptions', 'encodes/cycle', 'frames/cycle', 'CPU/cycle', 'CPU (one core)', 'bytes/cycle', 'sent', 'cycles/s'], rows, [
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
  ]);
}

export function renderMemory(results: Results): string {
  const m = results.memory;
  if (!m) return '(not run)';
  const rows = [
    [`${si(m.signals)} declared signals: heap used / RSS`, `${bytes(m.heapUsed)} / ${bytes(m.rss)}`],
    ['per signal, beyond its name and value', `${m.bytesPerSignal.toFixed(0)} B`],
    ['per signal, added by a client that receives all', m.bytesPerSignalWithClient === null ? '–' : `${m.bytesPerSignalWithClient.toFixed(0)} B`],
    [`per idle client (${m.idleClients} clients): heap+external / RSS`, `${bytes(m.heapPerClient)} / ${bytes(m.rssPerClient)}`],
  ];
  return table(['memory', 'measured'], rows, ['l', 'r']);
}

export const STATE_VARIANT_NAMES: Record<StateRow['variant'], string> = {
  copy: 'a copy of the state per message (cost before)',
  node: 'realvirtual-in "state"',
};

export function renderState(results: Results): string {
  const rows = results.state ?? [];
  if (rows.length === 0) return '(not run)';
  const lines = rows.map((row) => [
    STATE_VARIANT_NAMES[row.variant],
    `${row.framesPerSec.toFixed(1)} / ${row.messagesPerSec.toFixed(1)}`,
    `${ms(row.cpuMsPerMessage)}${mark(row)}`,
    `${row.cpuPercent.toFixed(0)} %`,
    `${ms(row.loopP99Ms)} / ${ms(row.loopMaxMs)}`,
    `${bytes(row.heapUsed)} / ${bytes(row.rss)} / ${bytes(row.maxRss)}`,
  ]);
  return table(['state output', 'frames/s in / messages/s out', 'CPU/message', 'CPU (one core)', 'event-loop delay p99 / max', 'heap / RSS / peak RSS'], lines, ['l', 'r', 'r', 'r', 'r', 'r']);
}

export const MINVR_VARIANT_NAMES: Record<MinVRRow['variant'], string> = {
  raw: 'raw net.Socket',
  corked: 'raw, corked per turn',
  json: 'raw + JSON.parse',
  engine: 'engine',
};

export function renderMinVR(results: Results): string {
  const rows = results.minvr ?? [];
  if (rows.length === 0) return '(not run)';
  const find = (direction: string, variant: string): MinVRRow | undefined => rows.find((row) => row.direction === direction && row.variant === variant);
  const rate = (row: MinVRRow | undefined): string => (row ? `${si(row.eventsPerSec)}${mark(row)}` : '–');
  const lines = (['send', 'receive'] as const)
    .filter((direction) => rows.some((row) => row.direction === direction))
    .map((direction) => {
      const [raw, corked, json, engine] = (['raw', 'corked', 'json', 'engine'] as const).map((variant) => find(direction, variant));
      // The second baseline does what the engine does besides the protocol: corks each turn (send), parses JSON (receive).
      const second = direction === 'send' ? corked : json;
      return [
        direction === 'send' ? 'send (engine encodes each event)' : 'receive (engine decodes and emits)',
        rate(raw),
        rate(second),
        rate(engine),
        ratioCell(results, `minvr-${direction}-raw`, engine?.eventsPerSec, raw?.eventsPerSec),
        ratioCell(results, `minvr-${direction}-${direction === 'send' ? 'corked' : 'json'}`, engine?.eventsPerSec, second?.eventsPerSec),
        engine ? `${engine.subject.cpuPercent.toFixed(0)} %` : '–',
      ];
    });
  return table(['direction', 'raw net.Socket', 'raw, corked per turn (send) / + JSON.parse (receive)', 'engine', 'engine/raw', 'engine/second', 'engine CPU'], lines, [
    'l',
    'r',
    'r',
    'r',
    'r',
    'r',
    'r',
  ]);
}

export function renderRatios(results: Results): string {
  const rows = (results.ratios ?? []).map((r) => [r.text, `${r.median.toFixed(2)}×`, `${r.min.toFixed(2)}–${r.max.toFixed(2)}`, r.rounds.map((value) => value.toFixed(2)).join(' ')]);
  return table(['ratio', 'median', 'min–max', 'per round'], rows, ['l', 'r', 'r', 'l']);
}

export function renderTargets(results: Results): string {
  const judged = results.mode === 'full';
  const rows = results.targets.map((target) => [target.pass === null ? 'info' : !judged ? (target.pass ? '(pass)' : '(miss)') : target.pass ? 'PASS' : 'MISS', target.text, target.measured]);
  return table(['', 'target', 'measured'], rows, ['l', 'l', 'l']);
}

export function renderAll(results: Results): string {
  const parts = [
    renderMachine(results),
    '',
    '**Ingest** — messages/s / signals/s received, every signal changed in every message (the median round; ratios: of messages per CPU-second of the measured process, median of the rounds [min–max])',
    '',
    renderIngest(results),
    '',
    '**Emit** — signals/s that reached the peer (cycleMs 0: a frame per write; 10: one frame per cycle; the median round; out 0 ms/DIY: of signals per CPU-second of the measured process, median of the rounds [min–max])',
    '',
    renderEmit(results),
    '',
    '**Latency** — peer changes Ping, the flow echoes it as Pong',
    '',
    renderLatency(results),
    '',
    '**Fan-out** — 1,000 signals written at 100 Hz; half the clients subscribe to all, half to 10 (5 distinct sets)',
    '',
    renderFanout(results),
    '',
    '**Memory**',
    '',
    renderMemory(results),
    '',
    ...((results.minvr ?? []).length > 0
      ? [
          `**MinVR3** — Vector3 tracker events/s over TCP JSON (${minvrFrameBytes(results)}-byte frames), MinVRServer against a raw net.Socket. ` +
            'Send: the peer counts complete frames; the engine encodes every event and corks its socket for each turn of the event loop; the raw socket writes pre-encoded frames one write each, or corked per turn as the engine. ' +
            'Receive: the peer floods pre-encoded frames; raw reads only the length prefixes',
          '',
          renderMinVR(results),
          '',
        ]
      : []),
    ...((results.state ?? []).length > 0
      ? [
          `**State output** — ${si(results.state![0].signals)} signals received once, then frames of one changed signal (20/s; the baseline, which cannot keep up with that, 2/s)`,
          '',
          renderState(results),
          '',
        ]
      : []),
    ...((results.ratios ?? []).length > 0
      ? [`**Ratios** — ${howMeasured(results.settings)}; a ratio per round, ${roundsText(results.settings)}${processesOf(results.settings)}`, '', renderRatios(results), '']
      : []),
    `**Targets**${results.mode === 'quick' ? ' (quick run: indicative only, never judged)' : ''}`,
    '',
    renderTargets(results),
  ];
  const disturbed = [...results.ingest, ...results.emit, ...results.fanout, ...(results.minvr ?? [])].some((row) => row.backgroundPercent > BACKGROUND_LIMIT);
  if (disturbed) {
    const kept = results.mode === 'full' ? ' (measured again, the less disturbed window was kept)' : '';
    parts.push('', `† other processes of the machine used more than ${BACKGROUND_LIMIT} % of a core during that window${kept}.`);
  }
  if (results.failures.length > 0) {
    parts.push('', '**Broken scenarios**', '', ...results.failures.map((failure) => `- ${failure.case}: ${failure.error.split('\n')[0]}`));
  }
  return parts.join('\n');
}

function minvrFrameBytes(results: Results): string {
  const sizes = (results.minvr ?? []).map((row) => row.frameBytes).filter((size) => size > 0);
  return sizes.length === 0 ? '?' : String(Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length));
}

function placementText(placement: Placement | null | undefined): string {
  return placement ? `; in ingest, emit and MinVR3 on CPU ${placement.subjects}, their peers on CPU ${placement.peers}` : '';
}

function howMeasured(settings: Settings): string {
  const slices = settings.slices ?? 1;
  // Run.inRounds: where the rounds use more than one set of processes, the sizes (the MinVR3 directions) take their rounds in turn.
  const inTurn = (settings.roundsPerProcess ?? settings.rounds) < settings.rounds ? ' and the sizes (MinVR3: the directions) round by round' : '';
  const ingest =
    slices > 1
      ? `in ingest, emit and MinVR3 each side's window of a round in ${slices} slices of ${Math.round(settings.windowMs / slices)} ms, the sides taking turns slice by slice${inTurn}`
      : 'each side measured once per round, the sides alternating';
  return `${ingest} (the latency echoes with cycleMs 0 ping by ping)`;
}

function roundsText(settings: Settings): string {
  const many = settings.manyRounds ?? settings.rounds;
  return many === settings.rounds ? `${settings.rounds} rounds` : `${settings.rounds} rounds (MinVR3 and the latency echoes with cycleMs 0: ${many})`;
}

function processesOf(settings: Settings): string {
  const perProcess = settings.roundsPerProcess ?? settings.rounds;
  if (perProcess >= settings.rounds) return '';
  return perProcess === 1 ? ', each in fresh processes' : `, fresh processes every ${perProcess} rounds`;
}
