/**
 * Framing of MinVR3's TCP JSON connection: each frame is a little-endian uint32 byte count
 * followed by that many bytes of ASCII JSON holding one VREvent. Same format both ways.
 *
 * Pure: the decoder takes the bytes a socket delivers, in chunks of any size, and returns the
 * events (and per-frame errors) they complete, in order.
 */
import { ConnectionError, OptionError, ProtocolError, RealvirtualError } from '../errors';
import { decodeEvent, encodeEvent, VREvent } from './events';

/** Largest frame body accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

const HEADER_BYTES = 4;
const MAX_UINT32 = 0xffffffff;

/** Frames an event: 4-byte little-endian length, then the event's ASCII JSON. */
export function encodeFrame(event: VREvent): Buffer {
  return frameJson(encodeEvent(event));
}

/** Frames JSON text that is already ASCII-only (as encodeEvent produces). */
export function frameJson(json: string): Buffer {
  const body = Buffer.from(json, 'latin1');
  if (body.length !== json.length || /[^\x00-\x7f]/.test(json)) {
    throw new ProtocolError('ERR_MINVR_EVENT', 'MinVR3 frame JSON must be ASCII-only (escape other characters as \\uXXXX)');
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, HEADER_BYTES);
  return frame;
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

  /** True while part of a frame has been received but not all of it. */
  get inFrame(): boolean {
    return this.size > 0 || this.need >= 0;
  }

  push(chunk: Buffer | Uint8Array): FrameResult[] {
    if (this.fatal) return [this.fatal];
    if (chunk.length > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.size += chunk.length;
    }
    const out: FrameResult[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.size < HEADER_BYTES) break;
        const length = this.take(HEADER_BYTES).readUInt32LE(0);
        if (length > this.maxFrame) {
          this.fatal = new ConnectionError(
            'ERR_MINVR_FRAME_TOO_LARGE',
            `MinVR3 frame of ${length} bytes is larger than maxFrame (${this.maxFrame} bytes); the peer must be dropped`,
          );
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

function decodeBody(body: Buffer): VREvent | ProtocolError {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (error) {
    return new ProtocolError('ERR_INVALID_UTF8', 'MinVR3 frame is not ASCII (nor UTF-8) text', { cause: error });
  }
  try {
    return decodeEvent(text);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}
