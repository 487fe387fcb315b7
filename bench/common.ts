/**
 * What the benchmark processes share: the shape of the signals and frames every
 * variant exchanges, a backpressured frame pump, percentiles and number formatting.
 */
import WebSocket from 'ws';

/** Signals per message of the throughput scenarios. */
export const SIZES = [10, 100, 1000, 10000];

/** Pre-built variants of every frame and payload; consecutive variants differ in every signal. */
export const VARIANTS = 8;

/**
 * Variants of what is written in the emit scenario. A cycle conflates however many
 * writes came since the last one: with 62 = 2 × 31 variants its numbers still change
 * unless that count is a multiple of 62 (a Bool toggled an even number of times has
 * not changed, and is rightly not sent).
 */
export const EMIT_VARIANTS = 62;

/** Names look like a production line's (18 characters) and never contain ':' (the sink counts signals by colons). */
export function signalName(i: number): string {
  return `Line1_Signal${String(i).padStart(6, '0')}`;
}

export type BenchValue = boolean | number;

/** A quarter Bool, a quarter Int, half Float: the value of signal `i` in variant `k`. */
export function signalValue(i: number, k: number): BenchValue {
  switch (i % 4) {
    case 0:
      return k % 2 === 0;
    case 1:
      return i + k;
    default:
      return i + (k + 0.5) / 10;
  }
}

export function valueType(i: number): 'Bool' | 'Int' | 'Float' {
  return i % 4 === 0 ? 'Bool' : i % 4 === 1 ? 'Int' : 'Float';
}

export function signalRecords(size: number, variants = VARIANTS): Array<Record<string, BenchValue>> {
  return Array.from({ length: variants }, (_, k) => signalRecord(size, k));
}

export function signalRecord(size: number, k: number): Record<string, BenchValue> {
  const record: Record<string, BenchValue> = {};
  for (let i = 0; i < size; i++) record[signalName(i)] = signalValue(i, k);
  return record;
}

/** The `data` frame of `size` signals in variant `k`, byte for byte what realvirtual sends. */
export function dataFrame(size: number, k: number): Buffer {
  return Buffer.from(JSON.stringify({ type: 'data', signals: signalRecord(size, k) }));
}

export function dataFrames(size: number, variants = VARIANTS): Buffer[] {
  return Array.from({ length: variants }, (_, k) => dataFrame(size, k));
}

export const INIT_FRAME = JSON.stringify({ type: 'init', name: 'bench-peer', version: 2 });

/** Signals in a `data`/`snapshot` frame, counted without parsing: every ':' after the two of "type" and "signals". */
export function countSignals(frame: Buffer): number {
  let colons = 0;
  for (let i = 0; i < frame.length; i++) if (frame[i] === 58) colons++;
  return colons - 2;
}

export interface PumpCounters {
  frames: number;
  bytes: number;
}

/**
 * Keeps a socket busy: sends pre-encoded frames while fewer than a bound of bytes
 * wait in it, and refills as the socket drains. Runs until stop() or `maxMs`.
 */
export function pumpFrames(socket: WebSocket, frames: Buffer[], counters: PumpCounters, maxMs: number): { stop(): void } {
  const frameBytes = frames[0].length;
  const high = Math.max(4, Math.ceil(Math.max(1 << 20, 4 * frameBytes) / frameBytes));
  const low = Math.max(1, high >> 1);
  let outstanding = 0;
  let next = 0;
  let running = true;
  let scheduled = false;
  // Writes that complete at once call back on the same tick: refilling there would starve the event loop.
  const sent = (error?: Error): void => {
    outstanding--;
    if (error || scheduled || outstanding > low) return;
    scheduled = true;
    setImmediate(pump);
  };
  const pump = (): void => {
    scheduled = false;
    while (running && outstanding < high && socket.readyState === WebSocket.OPEN) {
      const frame = frames[next];
      next = next + 1 === frames.length ? 0 : next + 1;
      outstanding++;
      counters.frames++;
      counters.bytes += frame.length;
      socket.send(frame, { binary: false }, sent);
    }
  };
  const timer = setTimeout(() => stop(), maxMs);
  const stop = (): void => {
    running = false;
    clearTimeout(timer);
  };
  pump();
  return { stop };
}

export function openSocket(url: string, timeoutMs = 5000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no connection to ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${url}: ${error.message}`));
    });
  });
}

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of round trips in ms. */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const at = (q: number): number => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return { n, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: n === 0 ? NaN : sorted[n - 1], mean: n === 0 ? NaN : sum / n };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** 1234567 → "1.23 M"; 12345 → "12.3 k". */
export function si(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(3)} k`;
  return abs >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

export function bytes(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 1024 * 1024 * 1024) return `${(value / 1024 / 1024 / 1024).toFixed(2)} GiB`;
  if (abs >= 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(1)} KiB`;
  return `${Math.round(value)} B`;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value >= 10 ? `${value.toFixed(1)} ms` : value >= 1 ? `${value.toFixed(2)} ms` : `${(value * 1000).toFixed(0)} µs`;
}

// ---------------------------------------------------------------- MinVR3

/** Distinct tracker events the MinVR3 scenario cycles through (each differs from the last in every value). */
export const MINVR_VARIANTS = 64;

const TRACKERS = ['Head', 'Hand/Left', 'Hand/Right', 'Tracker1'];

export interface TrackerEvent {
  name: string;
  type: 'Vector3';
  data: { x: number; y: number; z: number };
}

function micro(value: number): number {
  // `|| 0`: no -0, which the engine writes as -0 and the baseline's JSON.stringify as 0.
  return Math.round(value * 1e6) / 1e6 || 0;
}

/** Names and positions (metres, six decimals, as a tracker reports them) of the tracker events, by variant. */
export const TRACKER = (() => {
  const names: string[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  const zs: number[] = [];
  for (let k = 0; k < MINVR_VARIANTS; k++) {
    const t = (2 * Math.PI * k) / MINVR_VARIANTS;
    names.push(`${TRACKERS[k % TRACKERS.length]}/Position`);
    xs.push(micro(0.4 * Math.cos(t) + 0.01 * k));
    ys.push(micro(1.6 + 0.05 * Math.sin(3 * t)));
    zs.push(micro(-0.4 * Math.sin(t) - 0.003 * k));
  }
  return { names, xs, ys, zs };
})();

/** A fresh Vector3 tracker event of variant `k`, as a flow would hand it to the engine. */
export function trackerEvent(k: number): TrackerEvent {
  return { name: TRACKER.names[k], type: 'Vector3', data: { x: TRACKER.xs[k], y: TRACKER.ys[k], z: TRACKER.zs[k] } };
}

/** The MinVR3 TCP frame of variant `k`, built by hand: little-endian uint32 length, then the ASCII JSON. */
export function trackerFrame(k: number): Buffer {
  const json = JSON.stringify({ m_Name: TRACKER.names[k], m_DataTypeName: 'Vector3', m_Data: { x: TRACKER.xs[k], y: TRACKER.ys[k], z: TRACKER.zs[k] } });
  const frame = Buffer.alloc(4 + json.length);
  frame.writeUInt32LE(json.length, 0);
  frame.write(json, 4, 'latin1');
  return frame;
}

export function trackerFrames(): Buffer[] {
  return Array.from({ length: MINVR_VARIANTS }, (_, k) => trackerFrame(k));
}

/** True for the JSON of a tracker event (what a peer checks on a sample of the frames). */
export function isTrackerJson(text: string): boolean {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const data = parsed?.m_Data;
  return parsed?.m_DataTypeName === 'Vector3' && TRACKER.names.includes(parsed.m_Name) && typeof data?.x === 'number' && typeof data.y === 'number' && typeof data.z === 'number';
}

/** A frame body larger than this is counted as wrong and the rest of the stream is ignored. */
const COUNTER_MAX_FRAME = 1 << 20;

/**
 * Counts the length-prefixed frames of a MinVR3 TCP stream as its chunks arrive, reading only
 * the prefixes; `onBody` (optional) sees each complete body as a range of a buffer.
 */
export class FrameCounter {
  frames = 0;
  bytes = 0;
  wrong = 0;
  private rest: Buffer | null = null;

  constructor(private readonly onBody?: (buffer: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.wrong > 0) return;
    const buffer = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const end = buffer.length;
    let at = 0;
    while (end - at >= 4) {
      const length = buffer.readUInt32LE(at);
      if (length > COUNTER_MAX_FRAME) {
        this.wrong++;
        return;
      }
      if (end - at - 4 < length) break;
      if (this.onBody) this.onBody(buffer, at + 4, at + 4 + length);
      this.frames++;
      at += 4 + length;
    }
    if (at < end) this.rest = buffer.subarray(at);
  }
}

/**
 * Batches of whole frames, about `batchBytes` each (at least one frame). Frame after frame they run
 * through the variants in order, also from one batch to the next.
 */
export function batchesOf(frames: Buffer[], batchBytes = 64 * 1024): { batches: Buffer[]; perBatch: number } {
  const perBatch = Math.max(1, Math.floor(batchBytes / frames[0].length));
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const batchCount = frames.length / gcd(perBatch, frames.length);
  const batches = Array.from({ length: batchCount }, (_, b) => Buffer.concat(Array.from({ length: perBatch }, (_, i) => frames[(b * perBatch + i) % frames.length])));
  return { batches, perBatch };
}
