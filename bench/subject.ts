/**
 * The measured process: it runs one case at a time (a raw `ws` or `net.Socket` baseline,
 * the engine, or a real Node-RED runtime with our flow or the hand-built one) and reports its
 * counters, CPU time and memory when the runner marks the start and end of a window.
 * Load comes from the peer process (peer.ts), never from this event loop.
 */
import fs from 'fs';
import net from 'net';
import path from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeFrame, MinVRServer, RealvirtualServer } from '../engine';
import type { SignalDeclaration } from '../engine';
import { repoRoot } from '../test/repo';
import type * as Harness from '../test/nodes/harness';
import { dataFrames, delay, EMIT_VARIANTS, FrameCounter, MINVR_VARIANTS, pumpFrames, PumpCounters, signalName, signalRecords, signalValue, trackerEvent, trackerFrames, valueType } from './common';
import { serve } from './ipc';
import * as benchNodes from './nodes';

export type Variant = 'ws' | 'engine' | 'node' | 'diy';

/**
 * MinVR3: raw, a net.Socket that writes pre-encoded frames or reads only the length prefixes;
 * corked, the same writer corking each turn of the event loop as the engine does; json, the
 * reader plus JSON.parse of each body; engine, MinVRServer.
 */
/** The "state" scenario: node, realvirtual-in's "state" output; copy, "changes" and a function that sends a copy of its merged state. */
export type StateVariant = 'node' | 'copy';

export type MinVRVariant = 'raw' | 'corked' | 'json' | 'engine';

export type CaseSpec =
  | { scenario: 'ingest'; variant: Variant; size: number }
  | { scenario: 'emit'; variant: Variant; size: number; cycleMs: number }
  | { scenario: 'echo'; variant: 'ws' | 'node' | 'diy'; cycleMs: number }
  | { scenario: 'fanout'; signals: number; cycleMs: number; writeHz: number }
  | { scenario: 'memory-signals'; count: number }
  | { scenario: 'memory-clients'; signals: number }
  | { scenario: 'state'; variant: StateVariant; signals: number }
  | { scenario: 'minvr-send'; variant: 'raw' | 'corked' | 'engine' }
  | { scenario: 'minvr-receive'; variant: MinVRVariant };

export interface Mark {
  /** performance.now() of this process, ms. */
  t: number;
  /** process.cpuUsage(), µs. */
  cpu: { user: number; system: number };
  counters: Record<string, number>;
  memory: NodeJS.MemoryUsage;
}

export interface SetupResult {
  url: string;
  info: Record<string, unknown>;
}

interface Running {
  url: string;
  info?: Record<string, unknown>;
  counters(): Record<string, number>;
  start?(): void | Promise<void>;
  stop?(): void;
  close(): Promise<void>;
}

/** Each burst of writes carries about this many signals, then the loop yields to I/O. */
const BURST_SIGNALS = 20000;
/** An emit case that buffers this much (a baseline without backpressure) stops feeding. */
const RSS_LIMIT = 1.5 * 1024 * 1024 * 1024;
const HOST = '127.0.0.1';

export function burstFor(size: number): number {
  return Math.max(1, Math.floor(BURST_SIGNALS / size));
}

// ---------------------------------------------------------------- Node-RED

let harness: typeof Harness | null = null;
let httpStarted = false;

function nodeRed(): typeof Harness {
  // Loaded on demand, so that the raw and engine cases never load Node-RED.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (!harness) harness = require('../test/nodes/harness') as typeof Harness;
  return harness;
}

/** The helper's HTTP server: Node-RED's `websocket in/out` listen on the runtime's server, as they do in a real Node-RED. */
async function runtimePort(): Promise<number> {
  const helper = nodeRed().helper as unknown as { startServer(): Promise<void>; _port: number };
  if (!httpStarted) {
    await helper.startServer();
    httpStarted = true;
  }
  return helper._port;
}

/**
 * Loads one tab of a flow file in bench/flows (with its config nodes), `patch`ing
 * node properties by id. node-red-node-test-helper wraps Node.prototype.send, status
 * and log in sinon spies that record every call with a stack trace; a benchmark
 * cannot carry that, so the spies are removed once the flow runs.
 */
async function loadBenchFlow(file: 'realvirtual' | 'diy', tab: string, patch: Record<string, Record<string, unknown>>, ready?: (h: typeof Harness) => Promise<unknown>): Promise<void> {
  const h = nodeRed();
  const all = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'bench', 'flows', `${file}.json`), 'utf8')) as Harness.FlowNode[];
  const flow = all.filter((n) => n.id === tab || n.z === tab || (n.type !== 'tab' && n.z === undefined)).map((n) => ({ ...n, ...(patch[n.id] ?? {}) }));
  const core = h.coreModules(flow.map((n) => n.type).filter((type) => !type.startsWith('bench-')));
  await h.load(flow, {}, [...core, benchNodes.benchNodes as NonNullable<Parameters<typeof h.load>[2]>[number]]);
  if (ready) await ready(h);
  const helper = h.helper as unknown as { _sandbox: { restore(): void }; _NodePrototype: { send: SpiedFunction } };
  helper._sandbox.restore();
  const isSpy = (fn: SpiedFunction | undefined): boolean => typeof fn?.getCalls === 'function';
  if (isSpy(helper._NodePrototype.send)) throw new Error('Node.prototype.send is still a spy');
  // A wired node keeps its own reference to Node.prototype.send, taken when it was created.
  for (const { id } of flow) {
    const running = h.helper.getNode(id) as unknown as { send?: SpiedFunction } | null;
    if (running && isSpy(running.send)) running.send = helper._NodePrototype.send;
    if (running && isSpy(running.send)) throw new Error(`node ${id} still sends through a spy`);
  }
}

type SpiedFunction = ((...args: unknown[]) => unknown) & { getCalls?: unknown };

async function loadOurFlow(tab: string, cycleMs: number): Promise<string> {
  const h = nodeRed();
  const port = await h.freePort();
  const inNode = ({ 'rv-ingest': 'rv-ingest-in', 'rv-echo': 'rv-echo-in', 'rv-state': 'rv-state-in', 'rv-state-copy': 'rv-state-copy-in' } as Record<string, string>)[tab] ?? null;
  await loadBenchFlow('realvirtual', tab, { 'rv-connection': { port, cycleMs } }, async (harness) => {
    if (inNode) await harness.waitForStatus(harness.node(inNode), (status) => status.fill === 'green', 'green (listening)');
  });
  if (!inNode) await waitListening(port);
  return `ws://${HOST}:${port}/`;
}

/** Polls until something accepts connections on the port (a flow without realvirtual-in shows no status to wait for). */
async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(`ws://${HOST}:${port}/`);
      socket.once('open', () => {
        socket.close();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function loadDiyFlow(tab: string): Promise<string> {
  const port = await runtimePort();
  await loadBenchFlow('diy', tab, {});
  return `ws://${HOST}:${port}/realvirtual`;
}

function sinkCounters(size: number): () => Record<string, number> {
  benchNodes.sink.messages = 0;
  benchNodes.sink.wrong = 0;
  benchNodes.sink.expectSignals = size;
  return () => ({ messages: benchNodes.sink.messages, signals: benchNodes.sink.messages * size, wrong: benchNodes.sink.wrong });
}

function feedSources(size: number): { counters(): Record<string, number>; start(): void; stop(): void } {
  benchNodes.source.messages = 0;
  benchNodes.source.payloads = signalRecords(size, EMIT_VARIANTS);
  benchNodes.source.burst = burstFor(size);
  const guard = rssGuard(() => benchNodes.stopSources());
  return {
    counters: () => ({ written: benchNodes.source.messages, writtenSignals: benchNodes.source.messages * size, overflowed: guard.tripped ? 1 : 0 }),
    start: () => {
      guard.start();
      benchNodes.startSources();
    },
    stop: () => {
      guard.stop();
      benchNodes.stopSources();
    },
  };
}

/** Stops a feeding loop whose output piles up in memory instead of on the wire. */
function rssGuard(stopFeeding: () => void): { tripped: boolean; start(): void; stop(): void } {
  let timer: NodeJS.Timeout | null = null;
  const guard = {
    tripped: false,
    start() {
      timer = setInterval(() => {
        if (process.memoryUsage.rss() < RSS_LIMIT) return;
        guard.tripped = true;
        stopFeeding();
      }, 100);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return guard;
}

// ---------------------------------------------------------------- raw ws

async function listenWs(onConnection: (socket: WebSocket) => void): Promise<{ wss: WebSocketServer; url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  wss.on('connection', onConnection);
  const port = (wss.address() as { port: number }).port;
  return {
    wss,
    url: `ws://${HOST}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** Kept so that no JSON.parse result is dead code. */
export let lastParsed: unknown = null;

// ---------------------------------------------------------------- cases

async function ingest(variant: Variant, size: number): Promise<Running> {
  switch (variant) {
    case 'ws': {
      let messages = 0;
      const server = await listenWs((socket) =>
        socket.on('message', (data: Buffer) => {
          const parsed = JSON.parse(data.toString());
          if (parsed.type === 'data') messages++;
          lastParsed = parsed;
        }),
      );
      return { url: server.url, counters: () => ({ messages, signals: messages * size, wrong: 0 }), close: server.close };
    }
    case 'engine': {
      let messages = 0;
      let signals = 0;
      let wrong = 0;
      const server = new RealvirtualServer({ host: HOST, port: 0 });
      server.on('data', (event) => {
        messages++;
        signals += event.changed.length;
        if (event.changed.length !== size) wrong++;
      });
      await server.listen();
      return { url: server.url, counters: () => ({ messages, signals, wrong }), close: () => server.close() };
    }
    case 'node': {
      const counters = sinkCounters(size);
      const url = await loadOurFlow('rv-ingest', 10);
      return { url, counters, close: closeNodeRed };
    }
    case 'diy': {
      const counters = sinkCounters(size);
      const url = await loadDiyFlow('diy-ingest');
      return { url, counters, close: closeNodeRed };
    }
  }
}

async function emit(variant: Variant, size: number, cycleMs: number): Promise<Running> {
  switch (variant) {
    case 'ws': {
      const counters: PumpCounters = { frames: 0, bytes: 0 };
      const frames = dataFrames(size, EMIT_VARIANTS);
      const pumps: Array<{ stop(): void }> = [];
      const server = await listenWs(() => undefined);
      return {
        url: server.url,
        counters: () => ({ written: counters.frames, writtenSignals: counters.frames * size, overflowed: 0 }),
        start: () => {
          for (const socket of server.wss.clients) pumps.push(pumpFrames(socket, frames, counters, 600000));
        },
        stop: () => pumps.forEach((pump) => pump.stop()),
        close: server.close,
      };
    }
    case 'engine': {
      const server = new RealvirtualServer({ host: HOST, port: 0, cycleMs });
      await server.listen();
      const payloads = signalRecords(size, EMIT_VARIANTS);
      const burst = burstFor(size);
      let written = 0;
      let next = 0;
      let running = false;
      const loop = (): void => {
        if (!running) return;
        for (let i = 0; i < burst; i++) {
          server.writeMany(payloads[next]);
          next = next + 1 === payloads.length ? 0 : next + 1;
          written++;
        }
        setImmediate(loop);
      };
      return {
        url: server.url,
        counters: () => ({ written, writtenSignals: written * size, overflowed: 0, ...engineStats(server) }),
        start: () => {
          running = true;
          setImmediate(loop);
        },
        stop: () => {
          running = false;
        },
        close: () => server.close(),
      };
    }
    case 'node': {
      const feed = feedSources(size);
      const url = await loadOurFlow('rv-emit', cycleMs);
      return { url, ...feed, close: closeNodeRed };
    }
    case 'diy': {
      const feed = feedSources(size);
      const url = await loadDiyFlow('diy-emit');
      return { url, ...feed, close: closeNodeRed };
    }
  }
}

async function echo(variant: 'ws' | 'node' | 'diy', cycleMs: number): Promise<Running> {
  switch (variant) {
    case 'ws': {
      let echoes = 0;
      const server = await listenWs((socket) =>
        socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString());
          if (message.type !== 'data' || message.signals === null || typeof message.signals !== 'object' || !('Ping' in message.signals)) return;
          socket.send(JSON.stringify({ type: 'data', signals: { Pong: message.signals.Ping } }));
          echoes++;
        }),
      );
      return { url: server.url, counters: () => ({ echoes }), close: server.close };
    }
    case 'node':
      return { url: await loadOurFlow('rv-echo', cycleMs), counters: () => ({}), close: closeNodeRed };
    case 'diy':
      return { url: await loadDiyFlow('diy-echo'), counters: () => ({}), close: closeNodeRed };
  }
}

/**
 * The state messages of `signals` received signals: the sink checks every 64th carries all
 * of them; `start` begins a window of event-loop delay (ms, sampled every 10 ms) and the
 * counters report it with the peak RSS.
 */
async function stateOutput(variant: StateVariant, signals: number): Promise<Running> {
  const sinkCount = sinkCounters(signals);
  const url = await loadOurFlow(variant === 'node' ? 'rv-state' : 'rv-state-copy', 10);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  return {
    url,
    counters: () => ({
      messages: sinkCount().messages,
      wrong: sinkCount().wrong,
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    }),
    start: () => loop.reset(),
    close: async () => {
      loop.disable();
      await closeNodeRed();
    },
  };
}

function declarations(count: number, direction: 'read' | 'write'): SignalDeclaration[] {
  return Array.from({ length: count }, (_, i) => ({ name: signalName(i), type: valueType(i), direction, value: signalValue(i, 0) }));
}

function engineStats(server: RealvirtualServer): Record<string, number> {
  const { cycles, encodes, frames, bytes } = server.stats;
  const groups = (server as unknown as { exchange: { groupCount: number } }).exchange.groupCount;
  return { cycles, encodes, frames, bytes, groups, clients: server.clients.length };
}

async function fanout(signals: number, cycleMs: number, writeHz: number): Promise<Running> {
  const server = new RealvirtualServer({ host: HOST, port: 0, cycleMs, signals: declarations(signals, 'write') });
  await server.listen();
  const payloads = signalRecords(signals);
  let writes = 0;
  let next = 1;
  let timer: NodeJS.Timeout | null = null;
  return {
    url: server.url,
    counters: () => ({ writes, ...engineStats(server) }),
    start: () => {
      timer = setInterval(() => {
        server.writeMany(payloads[next]);
        next = next + 1 === payloads.length ? 0 : next + 1;
        writes++;
      }, 1000 / writeHz);
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
    close: () => server.close(),
  };
}

async function collectGarbage(): Promise<void> {
  const gc = (global as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error('memory cases need node --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Bytes of what a signal is, as data: its name in UTF-8 and its value (8 per number, 1 per boolean, UTF-8 of text). */
function nameAndValueBytes(list: SignalDeclaration[]): number {
  let total = 0;
  for (const { name, value } of list) {
    total += Buffer.byteLength(name);
    total += typeof value === 'number' ? 8 : typeof value === 'boolean' ? 1 : Buffer.byteLength(String(value));
  }
  return total;
}

async function memorySignals(count: number): Promise<Running> {
  await collectGarbage();
  const before = process.memoryUsage();
  let list: SignalDeclaration[] | null = declarations(count, 'write');
  const dataBytes = nameAndValueBytes(list);
  const server = new RealvirtualServer({ host: HOST, port: 0, signals: list });
  // Dropped, so that only the server's own copy of the declarations counts.
  // eslint-disable-next-line no-useless-assignment
  list = null;
  await server.listen();
  await collectGarbage();
  const after = process.memoryUsage();
  return {
    url: server.url,
    info: { before, after, dataBytes, count: server.table.size },
    counters: () => ({ signals: server.table.size, clients: server.clients.length }),
    close: () => server.close(),
  };
}

async function memoryClients(signals: number): Promise<Running> {
  const server = new RealvirtualServer({ host: HOST, port: 0, signals: declarations(signals, 'write') });
  await server.listen();
  await collectGarbage();
  const before = process.memoryUsage();
  return {
    url: server.url,
    info: { before },
    counters: () => ({ clients: server.clients.length }),
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------- MinVR3 over TCP

/** Events written per turn of the event loop by a MinVR3 sender. */
const SEND_BURST = 1000;
/** A MinVR3 sender writes only while fewer bytes than this wait in its socket (its only pacing: the same for both variants). */
const SEND_HIGH = 1 << 20;
/** A sender stops by itself after this long. */
const SEND_MAX_MS = 10 * 60 * 1000;

/** A plain TCP server on 127.0.0.1, for the raw baselines. */
async function listenTcp(onConnection: (socket: net.Socket) => void): Promise<{ url: string; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `tcp://${HOST}:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function until(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/**
 * Writes events in bursts of SEND_BURST, one turn of the event loop each, while fewer than
 * SEND_HIGH bytes wait in the socket; otherwise looks again 1 ms later. `sendOne(k)` sends
 * tracker variant k.
 */
function pacedSender(sendOne: (k: number) => void, buffered: () => number, connected: () => boolean): Pick<Running, 'counters' | 'start' | 'stop'> {
  let written = 0;
  let waits = 0;
  let next = 0;
  let running = false;
  let deadline = 0;
  const loop = (): void => {
    if (!running) return;
    if (Date.now() > deadline) {
      running = false;
      return;
    }
    if (buffered() >= SEND_HIGH) {
      waits++;
      setTimeout(loop, 1);
      return;
    }
    for (let i = 0; i < SEND_BURST; i++) {
      sendOne(next);
      next = next + 1 === MINVR_VARIANTS ? 0 : next + 1;
    }
    written += SEND_BURST;
    setImmediate(loop);
  };
  return {
    counters: () => ({ written, waits }),
    start: async () => {
      await until(connected, 'the peer to connect');
      running = true;
      deadline = Date.now() + SEND_MAX_MS;
      setImmediate(loop);
    },
    stop: () => {
      running = false;
    },
  };
}

async function minvrSend(variant: 'raw' | 'corked' | 'engine'): Promise<Running> {
  const frames = trackerFrames();
  if (variant !== 'engine') {
    let socket: net.Socket | null = null;
    const server = await listenTcp((accepted) => {
      // As the engine's TCP link does.
      accepted.setNoDelay(true);
      socket ??= accepted;
    });
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket!.uncork();
    };
    const sender = pacedSender(
      variant === 'raw'
        ? (k) => socket!.write(frames[k])
        : (k) => {
            if (!corked) {
              corked = true;
              socket!.cork();
              process.nextTick(uncork);
            }
            socket!.write(frames[k]);
          },
      () => socket!.writableLength,
      () => socket !== null,
    );
    return { url: server.url, ...sender, close: server.close };
  }
  // The engine must put the very bytes of the baseline on the wire.
  for (let k = 0; k < MINVR_VARIANTS; k++) {
    if (!encodeFrame(trackerEvent(k)).equals(frames[k])) throw new Error(`the engine encodes tracker event ${k} differently from the baseline's frame`);
  }
  const server = new MinVRServer({ host: HOST, port: 0 });
  await server.listen();
  const sender = pacedSender(
    (k) => server.send(trackerEvent(k)),
    () => server.bufferedBytes,
    () => server.clients.length > 0,
  );
  return {
    url: `tcp://${HOST}:${server.port}`,
    ...sender,
    counters: () => ({ ...sender.counters(), sent: server.stats.eventsSent }),
    close: () => server.close(),
  };
}

async function minvrReceive(variant: MinVRVariant): Promise<Running> {
  let events = 0;
  let wrong = 0;
  if (variant === 'engine') {
    const server = new MinVRServer({ host: HOST, port: 0 });
    server.on('event', (event) => {
      events++;
      if (event.type !== 'Vector3') wrong++;
    });
    server.on('problem', () => wrong++);
    await server.listen();
    return { url: `tcp://${HOST}:${server.port}`, counters: () => ({ events, wrong }), close: () => server.close() };
  }
  const counters: FrameCounter[] = [];
  const server = await listenTcp((socket) => {
    const counter =
      variant === 'raw'
        ? new FrameCounter()
        : new FrameCounter((buffer, start, end) => {
            try {
              const parsed = JSON.parse(buffer.toString('utf8', start, end));
              if (parsed.m_DataTypeName !== 'Vector3') wrong++;
              lastParsed = parsed;
            } catch {
              wrong++;
            }
          });
    counters.push(counter);
    socket.on('data', (chunk: Buffer) => counter.push(chunk));
  });
  const sum = (key: 'frames' | 'wrong'): number => counters.reduce((total, counter) => total + counter[key], 0);
  return { url: server.url, counters: () => ({ events: sum('frames'), wrong: wrong + sum('wrong') }), close: server.close };
}

async function closeNodeRed(): Promise<void> {
  benchNodes.stopSources();
  if (harness) await harness.unload();
}

// ---------------------------------------------------------------- serving the runner

let current: Running | null = null;

async function setup(spec: CaseSpec): Promise<SetupResult> {
  if (current) throw new Error('a case is already set up');
  switch (spec.scenario) {
    case 'ingest':
      current = await ingest(spec.variant, spec.size);
      break;
    case 'emit':
      current = await emit(spec.variant, spec.size, spec.cycleMs);
      break;
    case 'echo':
      current = await echo(spec.variant, spec.cycleMs);
      break;
    case 'fanout':
      current = await fanout(spec.signals, spec.cycleMs, spec.writeHz);
      break;
    case 'memory-signals':
      current = await memorySignals(spec.count);
      break;
    case 'memory-clients':
      current = await memoryClients(spec.signals);
      break;
    case 'state':
      current = await stateOutput(spec.variant, spec.signals);
      break;
    case 'minvr-send':
      current = await minvrSend(spec.variant);
      break;
    case 'minvr-receive':
      current = await minvrReceive(spec.variant);
      break;
  }
  return { url: current.url, info: current.info ?? {} };
}

function running(): Running {
  if (!current) throw new Error('no case is set up');
  return current;
}

serve(
  {
    setup: (spec: CaseSpec) => setup(spec),
    start: () => running().start?.(),
    stop: () => running().stop?.(),
    mark: async (args: { gc?: boolean } | null): Promise<Mark> => {
      if (args?.gc) await collectGarbage();
      return { t: performance.now(), cpu: process.cpuUsage(), counters: running().counters(), memory: process.memoryUsage() };
    },
    teardown: async () => {
      const run = current;
      current = null;
      if (!run) return;
      run.stop?.();
      await run.close();
    },
  },
  15 * 60 * 1000,
);
