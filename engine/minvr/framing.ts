/**
 * Framing of MinVR3's TCP JSON connection: each frame is a little-endian uint32 byte count
 * followed by that many bytes of ASCII JSON holding one VREvent. Same format both ways.
 *
 * Pure: the decoder takes the bytes a socket delivers, in chunks of any size, and returns the
 * events (and per-frame errors) they complete, in order.
 */
import buffer from 'buffer';
import { ConnectionError, OptionError, ProtocolError, RealvirtualError } from '../errors';
import { clip } from '../text';
import { decodeEvent, encodeEvent, VREvent } from './events';

/** Largest frame body accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

const HEADER_BYTES = 4;
/** Chunks smaller than this, arriving while more than TAIL_AFTER are held, are copied together into buffers of TAIL_BYTES. */
const SMALL_CHUNK = 1024;
const TAIL_AFTER = 8;
const TAIL_BYTES = 16 * 1024;
const MAX_UINT32 = 0xffffffff;
const NON_ASCII = /[^\x00-\x7f]/;

/** Frames an event: 4-byte little-endian length, then the event's ASCII JSON. */
export function encodeFrame(event: VREvent): Buffer {
  return frameJson(encodeEvent(event));
}

/** Frames JSON text that is already ASCII-only (as encodeEvent produces). */
export function frameJson(json: string): Buffer {
  if (NON_ASCII.test(json)) {
    throw new ProtocolError('ERR_MINVR_EVENT', 'MinVR3 frame JSON must be ASCII-only (escape other characters as \\uXXXX)');
  }
  return frameAscii(json);
}

function frameAscii(json: string): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + json.length);
  frame.writeUInt32LE(json.length, 0);
  frame.write(json, HEADER_BYTES, 'latin1');
  return frame;
}

/**
 * An event encoded once for every peer it goes to: its ASCII JSON, the bytes of that JSON
 * (a WebSocket text message) and, made on first use, the length-prefixed frame (TCP).
 */
export class OutgoingEvent {
  private framed: Buffer | undefined;
  private bytes: Buffer | undefined;

  /** `json` must be ASCII-only; `checked` says it is known to be (encodeEvent's output). */
  constructor(
    readonly json: string,
    private readonly checked = false,
  ) {}

  static of(event: VREvent): OutgoingEvent {
    return new OutgoingEvent(encodeEvent(event), true);
  }

  get frame(): Buffer {
    if (!this.framed) this.framed = this.checked ? frameAscii(this.json) : frameJson(this.json);
    return this.framed;
  }

  get text(): Buffer {
    if (!this.bytes) this.bytes = this.framed ? this.framed.subarray(HEADER_BYTES) : Buffer.from(this.json, 'utf8');
    return this.bytes;
  }
}

export interface FrameDecoderOptions {
  /** Largest frame body in bytes; a longer announced length is fatal. Default 16 MiB. */
  maxFrame?: number;
}

/**
 * What `push` returns, in stream order: a decoded event; a ProtocolError for a frame whose body
 * is not a valid VREvent (ERR_INVALID_JSON, ERR_INVALID_UTF8, ERR_MINVR_EVENT; decoding goes on
 * with the next frame); or, last, a ConnectionError ERR_MINVR_FRAME_TOO_LARGE, after which the
 * decoder refuses further input and the caller should drop the peer.
 */
export type FrameResult = VREvent | RealvirtualError;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class FrameDecoder {
  readonly maxFrame: number;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Body length of the frame being assembled, or -1 while its header is not complete. */
  private need = -1;
  private fatal: ConnectionError | undefined;
  private tail: Buffer | undefined;
  private tailView: Buffer | undefined;
  private tailUsed = 0;

  constructor(options: FrameDecoderOptions = {}) {
    const maxFrame = options.maxFrame === undefined ? DEFAULT_MAX_FRAME : options.maxFrame;
    if (typeof maxFrame !== 'number' || !Number.isInteger(maxFrame) || maxFrame < 0 || maxFrame > MAX_UINT32) {
      throw new OptionError(`maxFrame must be an integer from 0 to ${MAX_UINT32}, got ${String(maxFrame)}`);
    }
    this.maxFrame = maxFrame;
  }

  /** The fatal error once a frame was too large; from then on `push` only returns it again. */
  get failed(): ConnectionError | undefined {
    return this.fatal;
  }

  /** Bytes received that do not yet make a complete frame (a peer may be timed out on them). */
  get buffered(): number {
    return this.size;
  }

  /** Lets go of the bytes of an incomplete frame (the peer is being dropped). */
  release(): void {
    this.tail = undefined;
    this.tailView = undefined;
    this.chunks = [];
    this.size = 0;
    this.need = -1;
  }

  /** True while part of a frame has been received but not all of it. */
  get inFrame(): boolean {
    return this.size > 0 || this.need >= 0;
  }

  push(chunk: Buffer | Uint8Array): FrameResult[] {
    if (this.fatal) return [this.fatal];
    if (chunk.length > 0) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      if (bytes.length < SMALL_CHUNK && this.chunks.length >= TAIL_AFTER) this.appendSmall(bytes);
      else this.chunks.push(bytes);
      this.size += chunk.length;
    }
    const out: FrameResult[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.size < HEADER_BYTES) break;
        const length = this.takeLength();
        if (length > this.maxFrame) {
          this.fatal = new ConnectionError('ERR_MINVR_FRAME_TOO_LARGE', `MinVR3 frame of ${length} bytes is larger than maxFrame (${this.maxFrame} bytes); the peer must be dropped`);
          this.chunks = [];
          this.size = 0;
          out.push(this.fatal);
          break;
        }
        this.need = length;
      }
      if (this.size < this.need) break;
      const body = this.take(this.need);
      this.need = -1;
      out.push(decodeBody(body));
    }
    return out;
  }

  /**
   * Copies a small chunk into a shared tail buffer: a peer trickling a frame in tiny packets
   * would otherwise make us hold one Buffer object per few bytes, far more memory than the
   * bytes the partial-frame budget counts.
   */
  private appendSmall(chunk: Buffer): void {
    const last = this.chunks[this.chunks.length - 1];
    if (this.tail && last === this.tailView && this.tailUsed + chunk.length <= this.tail.length) {
      chunk.copy(this.tail, this.tailUsed);
      this.tailUsed += chunk.length;
      this.tailView = this.tail.subarray(0, this.tailUsed);
      this.chunks[this.chunks.length - 1] = this.tailView;
      return;
    }
    this.tail = Buffer.allocUnsafe(TAIL_BYTES);
    chunk.copy(this.tail, 0);
    this.tailUsed = chunk.length;
    this.tailView = this.tail.subarray(0, this.tailUsed);
    this.chunks.push(this.tailView);
  }

  /** Removes the 4-byte length header and returns its value, read in place when it lies in one chunk. */
  private takeLength(): number {
    const first = this.chunks[0];
    if (first.length < HEADER_BYTES) return this.take(HEADER_BYTES).readUInt32LE(0);
    const length = first.readUInt32LE(0);
    this.size -= HEADER_BYTES;
    if (first.length === HEADER_BYTES) this.chunks.shift();
    else this.chunks[0] = first.subarray(HEADER_BYTES);
    return length;
  }

  /** Removes and returns the first n buffered bytes (a view when they lie in one chunk). */
  private take(n: number): Buffer {
    this.size -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0];
      const part = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, part);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    return out;
  }
}

/** Node >= 18.15 tells ASCII apart natively; ASCII (what MinVR3 sends) then decodes as latin1, much faster. */
const isAscii: ((input: Buffer) => boolean) | undefined = (buffer as { isAscii?: (input: Buffer) => boolean }).isAscii;

function decodeBody(body: Buffer): VREvent | ProtocolError {
  let text: string;
  try {
    text = isAscii && isAscii(body) ? body.toString('latin1') : utf8.decode(body);
  } catch (error) {
    return new ProtocolError('ERR_INVALID_UTF8', 'MinVR3 frame is not ASCII (nor UTF-8) text', { cause: error });
  }
  try {
    return decodeEvent(text);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    // Whatever else goes wrong with one frame costs that frame only.
    return new ProtocolError('ERR_MINVR_EVENT', `MinVR3 frame could not be decoded: ${clip(String((error as Error)?.message ?? error))}`, { cause: error });
  }
}
