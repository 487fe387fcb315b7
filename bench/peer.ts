/**
 * The load generator, in its own process so that it never shares the measured event
 * loop: flooding peers, a counting sink, the echo pinger, fan-out and idle clients, and
 * the same over MinVR3's TCP JSON framing (a flooding peer and a counting sink).
 * Every loop is bounded in count and time and stops by itself.
 */
import net from 'net';
import { performance } from 'perf_hooks';
import WebSocket from 'ws';
import { batchesOf, countSignals, dataFrame, dataFrames, FrameCounter, INIT_FRAME, isTrackerJson, openSocket, PumpCounters, signalName, summarize, LatencySummary, trackerFrames } from './common';
import { serve } from './ipc';

export interface FloodArgs {
  url: string;
  size: number;
  maxMs: number;
  /** Connect and send init, but pump no frame before `resume` (a side of an A/B comparison waits for its turn). */
  paused?: boolean;
}

export interface SinkArgs {
  url: string;
}

export interface PingArgs {
  /** The echoes, pinged in turn. */
  urls: string[];
  /** Measured round trips of each echo, after unmeasured ones for at least `warmupMs` and at least `warmup` of them per echo (the JIT settles). */
  count: number;
  warmup: number;
  warmupMs: number;
  /** Each ping waits a random 0..thinkMaxMs first (0: at once), so that the pings sample every phase of the cycle. */
  thinkMaxMs: number;
  /** A round trip that takes longer fails the case. */
  timeoutMs: number;
  /** The whole run stops here (its summary says how many it got). */
  maxMs: number;
}

export interface FanoutArgs {
  url: string;
  clients: number;
  signals: number;
  /** Signals of each small subscription. */
  small: number;
  /** Distinct small subscriptions, spread over the small subscribers. */
  smallGroups: number;
}

export interface StateFeedArgs {
  url: string;
  /** Signals of the first frame. */
  signals: number;
  /** Small frames per second after it, each changing one signal. */
  hz: number;
  maxMs: number;
}

export interface IdleArgs {
  url: string;
  clients: number;
}

/** A MinVR3 TCP endpoint of the measured process: tcp://127.0.0.1:port. */
export interface MinVRSinkArgs {
  url: string;
}

export interface MinVRFloodArgs {
  url: string;
  maxMs: number;
  paused?: boolean;
}

export interface PingResult extends LatencySummary {
  completed: boolean;
  seconds: number;
  /** Unmeasured round trips before the measured ones. */
  warmup: number;
}

const sockets = new Set<WebSocket>();
const tcpSockets = new Set<net.Socket>();
let counters: Record<string, number> = {};
let stopActive: (() => void) | null = null;
/** The running flood's pump, paused between the windows of its side. */
let activePump: { pause(): void; resume(): void } | null = null;

function track(socket: WebSocket): WebSocket {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
  return socket;
}

/**
 * Floods `data` frames. They are built once as masked WebSocket frames (a client must
 * mask) and written straight to the TCP socket many at a time, so that sending costs
 * the peer far less than receiving costs the measured process, whatever the frame size.
 */
async function flood({ url, size, maxMs, paused }: FloodArgs): Promise<void> {
  const payloads = dataFrames(size);
  const socket = track(await openSocket(url));
  socket.send(INIT_FRAME);
  const { batches, perBatch } = batchesOf(payloads.map(maskedTextFrame));
  const tcp = (socket as unknown as { _socket: net.Socket })._socket;
  pumpBatches(tcp, batches, perBatch, maxMs, () => socket.readyState === WebSocket.OPEN, paused);
}

/**
 * Keeps about 1 MiB (at least two batches) queued on a TCP socket, batch after batch; 'drain'
 * (queue empty again) refills it. Runs until stop() or `maxMs`, or until `open` says no.
 */
function pumpBatches(tcp: net.Socket, batches: Buffer[], perBatch: number, maxMs: number, open: () => boolean, paused = false): void {
  const pumped: PumpCounters = { frames: 0, bytes: 0 };
  counters = pumped as unknown as Record<string, number>;
  const high = Math.max(1 << 20, 2 * batches[0].length);
  let next = 0;
  let running = true;
  let pumping = false;
  const pump = (): void => {
    pumping = false;
    if (!running || !open() || paused) return;
    pumping = true;
    while (tcp.writableLength < high) {
      const batch = batches[next];
      next = next + 1 === batches.length ? 0 : next + 1;
      pumped.frames += perBatch;
      pumped.bytes += batch.length;
      tcp.write(batch);
    }
    tcp.once('drain', pump);
  };
  const timer = setTimeout(() => (running = false), maxMs);
  stopActive = () => {
    running = false;
    clearTimeout(timer);
  };
  activePump = {
    pause: () => (paused = true),
    resume: () => {
      paused = false;
      if (!pumping) pump();
    },
  };
  pump();
}

/** A complete masked text frame (RFC 6455 5.2) for a payload. */
function maskedTextFrame(payload: Buffer): Buffer {
  const mask = [0x5a, 0x13, 0xc7, 0x2e];
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  for (let i = 0; i < 4; i++) frame[header + i] = mask[i];
  for (let i = 0; i < length; i++) frame[header + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Counts the signals that reach the wire; every 64th frame is parsed to check the count. */
async function sink({ url }: SinkArgs): Promise<void> {
  const socket = track(await openSocket(url));
  const count = { frames: 0, bytes: 0, signals: 0, wrong: 0 };
  counters = count;
  socket.on('message', (data: Buffer) => {
    const signals = countSignals(data);
    if ((count.frames & 63) === 0) {
      const message = JSON.parse(data.toString());
      const parsed = message.signals && typeof message.signals === 'object' ? Object.keys(message.signals).length : -1;
      if (parsed !== signals) count.wrong++;
    }
    count.frames++;
    count.bytes += data.length;
    count.signals += signals;
  });
  socket.send(INIT_FRAME);
}

/**
 * Changes Ping and waits until Pong carries the same value: one round trip. With several
 * echoes, the pings go to them in turn (in a new random order every turn), one at a time,
 * so that every echo's round trips sample the same moments of the machine's load.
 */
async function ping(args: PingArgs): Promise<PingResult[]> {
  const echoes = await Promise.all(args.urls.map(async (url) => ({ url, socket: track(await openSocket(url)), samples: new Float64Array(args.count), measured: 0 })));
  for (const echo of echoes) echo.socket.send(INIT_FRAME);
  const started = performance.now();
  /** Round trips (of all echoes) before the first measured one; -1 while warming up. */
  let warmedAfter = -1;
  let done = 0;
  let value = 0;
  let sentAt = 0;
  let order = echoes.slice();
  let turn = 0;
  let current = echoes[0];
  /** A round trip is counted once: a later frame carrying the same Pong (the full state) is not a second one. */
  let waiting = false;
  let completed = false;
  await new Promise<void>((resolve, reject) => {
    let watchdog: NodeJS.Timeout | null = null;
    const finish = (error?: Error): void => {
      if (watchdog) clearTimeout(watchdog);
      for (const echo of echoes) echo.socket.removeAllListeners('message');
      if (error) reject(error);
      else resolve();
    };
    const send = (): void => {
      value++;
      waiting = true;
      sentAt = performance.now();
      current.socket.send(`{"type":"data","signals":{"Ping":${value}}}`);
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => finish(new Error(`no echo of Ping=${value} from ${current.url} within ${args.timeoutMs} ms (after ${done} round trips)`)), args.timeoutMs);
    };
    const next = (): void => {
      if (turn === order.length) {
        if (echoes.every((echo) => echo.measured === args.count)) {
          completed = true;
          finish();
          return;
        }
        order = shuffled(echoes);
        turn = 0;
      }
      if (performance.now() - started > args.maxMs) {
        finish();
        return;
      }
      current = order[turn++];
      if (args.thinkMaxMs > 0) setTimeout(send, Math.random() * args.thinkMaxMs);
      else send();
    };
    for (const echo of echoes) {
      echo.socket.on('message', (data: Buffer) => {
        const now = performance.now();
        const message = JSON.parse(data.toString());
        if (echo !== current || !waiting || !message.signals || message.signals.Pong !== value || value === 0) return;
        waiting = false;
        if (warmedAfter >= 0) echo.samples[echo.measured++] = now - sentAt;
        else if (turn === order.length && done + 1 >= args.warmup * echoes.length && now - started >= args.warmupMs) warmedAfter = done + 1;
        done++;
        next();
      });
      echo.socket.once('close', () => finish(new Error(`the connection to ${echo.url} closed after ${done} round trips`)));
    }
    // The server sends its full state within subscribeWaitMs of the init; pings may start before it.
    turn = order.length;
    setTimeout(next, 100);
  });
  const seconds = (performance.now() - started) / 1000;
  return echoes.map((echo) => {
    echo.socket.removeAllListeners('close');
    echo.socket.close();
    return { ...summarize(echo.samples.subarray(0, echo.measured)), completed, seconds, warmup: Math.max(0, warmedAfter) / echoes.length };
  });
}

/** A copy in random order (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

async function fanout(args: FanoutArgs): Promise<Record<string, number>> {
  const all = Array.from({ length: args.signals }, (_, i) => signalName(i));
  const count = { frames: 0, bytes: 0, bigFrames: 0, bigBytes: 0, smallFrames: 0, smallBytes: 0, wrong: 0 };
  counters = count;
  const groups = new Set<string>();
  const ready = Array.from({ length: args.clients }, async (_, index) => {
    const big = index % 2 === 0;
    const window = Math.floor(index / 2) % args.smallGroups;
    const names = big ? all : all.slice(window * args.small, window * args.small + args.small);
    groups.add(big ? 'all' : `small-${window}`);
    const socket = track(await openSocket(args.url, 15000));
    let frames = 0;
    const subscribed = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client ${index} got no snapshot within 15 s`)), 15000);
      socket.on('message', (data: Buffer) => {
        if (frames === 0) {
          clearTimeout(timer);
          resolve();
        }
        frames++;
        // One frame per client is parsed: it must carry exactly the subscription.
        if (frames === 20 && countSignals(data) !== names.length) count.wrong++;
        count.frames++;
        count.bytes += data.length;
        if (big) {
          count.bigFrames++;
          count.bigBytes += data.length;
        } else {
          count.smallFrames++;
          count.smallBytes += data.length;
        }
      });
    });
    socket.send(INIT_FRAME);
    socket.send(JSON.stringify({ type: 'subscribe', version: 2, subscribe: names }));
    await subscribed;
  });
  await Promise.all(ready);
  return { distinctSubscriptions: groups.size };
}

async function idle(args: IdleArgs): Promise<void> {
  const count = { clients: 0 };
  counters = count;
  await Promise.all(
    Array.from({ length: args.clients }, async () => {
      const socket = track(await openSocket(args.url, 15000));
      const first = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('an idle client got no full state within 15 s')), 15000);
        socket.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      socket.send(INIT_FRAME);
      await first;
      count.clients++;
    }),
  );
}

/** One frame of every signal, then a frame changing one signal `hz` times a second, until stop() or `maxMs`. */
async function stateFeed({ url, signals, hz, maxMs }: StateFeedArgs): Promise<void> {
  const socket = track(await openSocket(url));
  const count = { frames: 0, bytes: 0 };
  counters = count;
  const send = (frame: Buffer | string): void => {
    socket.send(frame, { binary: false });
    count.frames++;
    count.bytes += frame.length;
  };
  socket.send(INIT_FRAME);
  send(dataFrame(signals, 0));
  // Signal 1 is an Int: a new value each frame.
  const name = signalName(1);
  let value = 0;
  const timer = setInterval(() => {
    if (socket.readyState === WebSocket.OPEN) send(`{"type":"data","signals":{"${name}":${++value}}}`);
  }, 1000 / hz);
  const deadline = setTimeout(() => clearInterval(timer), maxMs);
  stopActive = () => {
    clearInterval(timer);
    clearTimeout(deadline);
  };
}

// ---------------------------------------------------------------- MinVR3 over TCP

function connectTcp(url: string, timeoutMs = 5000): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${url}: ${error.message}`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      tcpSockets.add(socket);
      socket.on('close', () => tcpSockets.delete(socket));
      resolve(socket);
    });
  });
}

/** Counts the complete frames that arrive (by their length prefixes); every 64th is parsed to check it is a tracker event. */
async function minvrSink({ url }: MinVRSinkArgs): Promise<void> {
  const socket = await connectTcp(url);
  const count = { frames: 0, bytes: 0, wrong: 0 };
  counters = count;
  let badSamples = 0;
  const counter = new FrameCounter((buffer, start, end) => {
    if ((counter.frames & 63) === 0 && !isTrackerJson(buffer.toString('latin1', start, end))) badSamples++;
  });
  socket.on('data', (chunk: Buffer) => {
    counter.push(chunk);
    count.frames = counter.frames;
    count.bytes = counter.bytes;
    count.wrong = badSamples + counter.wrong;
  });
}

/** Floods pre-encoded tracker frames, about 64 KiB per write. */
async function minvrFlood({ url, maxMs, paused }: MinVRFloodArgs): Promise<void> {
  const socket = await connectTcp(url);
  const { batches, perBatch } = batchesOf(trackerFrames());
  pumpBatches(socket, batches, perBatch, maxMs, () => !socket.destroyed, paused);
}

function stop(): Record<string, number> {
  if (stopActive) stopActive();
  stopActive = null;
  activePump = null;
  for (const socket of sockets) socket.terminate();
  sockets.clear();
  for (const socket of tcpSockets) socket.destroy();
  tcpSockets.clear();
  return counters;
}

serve(
  {
    flood: (args: FloodArgs) => flood(args),
    sink: (args: SinkArgs) => sink(args),
    ping: (args: PingArgs) => ping(args),
    fanout: (args: FanoutArgs) => fanout(args),
    idle: (args: IdleArgs) => idle(args),
    stateFeed: (args: StateFeedArgs) => stateFeed(args),
    minvrSink: (args: MinVRSinkArgs) => minvrSink(args),
    minvrFlood: (args: MinVRFloodArgs) => minvrFlood(args),
    mark: () => ({ t: performance.now(), cpu: process.cpuUsage(), counters: { ...counters } }),
    pause: () => activePump?.pause(),
    resume: () => activePump?.resume(),
    stop: () => stop(),
  },
  15 * 60 * 1000,
);
