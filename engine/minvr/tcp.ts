/**
 * MinVR3's TCP JSON connection over a net.Socket: length-prefixed ASCII JSON frames both ways,
 * no handshake, no heartbeat (TCP keep-alive finds dead peers), no close message.
 */
import net from 'net';
import { ConnectionError, RealvirtualError } from '../errors';
import { describeSocketError, hostPort } from '../network';
import { FrameDecoder, OutgoingEvent } from './framing';
import { bufferFull, CLOSE_GRACE_MS, handlingFailed, LinkHandlers, PartialFrameLimit, MinVRLink, remoteOf } from './link';
import { SendQueue } from './send-queue';

/** Idle time before TCP keep-alive probes start: a vanished peer is found within about a minute. */
const KEEPALIVE_DELAY_MS = 10000;

export interface TcpLinkSettings extends PartialFrameLimit {
  maxFrame: number;
  /** A frame not complete this long after it started drops the peer; 0 = never. */
  frameTimeoutMs: number;
}

/** Wraps a connected socket. Bytes are decoded as they come; a fatal frame or timeout drops the peer. */
export function tcpLink(socket: net.Socket, settings: TcpLinkSettings, handlers: LinkHandlers): MinVRLink {
  const remote = remoteOf(socket.remoteAddress, socket.remotePort);
  const decoder = new FrameDecoder({ maxFrame: settings.maxFrame });
  let failure: RealvirtualError | undefined;
  let frameTimer: NodeJS.Timeout | null = null;
  let closed = false;
  const partial = settings.partialBudget.account();
  const sendQueue = new SendQueue();
  const flushed = (): void => sendQueue.flushed();

  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);

  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };

  const fail = (error: RealvirtualError): void => {
    if (failure || closed) return;
    failure = error;
    partial.release();
    decoder.release();
    socket.destroy();
  };

  const watchFrame = (completedOne: boolean): void => {
    if (!decoder.inFrame || settings.frameTimeoutMs <= 0) {
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = null;
      return;
    }
    if (frameTimer) {
      if (completedOne) frameTimer.refresh();
      return;
    }
    frameTimer = setTimeout(() => {
      frameTimer = null;
      fail(new ConnectionError('ERR_MINVR_FRAME_TIMEOUT', `${remote} sent part of a frame (${decoder.buffered} bytes) and not the rest within ${settings.frameTimeoutMs} ms: peer dropped`));
    }, settings.frameTimeoutMs);
  };

  const receive = (chunk: Buffer): void => {
    const results = decoder.push(chunk);
    for (const result of results) {
      if (failure || closed) return;
      if (!(result instanceof RealvirtualError)) handlers.event(result);
      else if (result === decoder.failed) fail(result);
      else handlers.problem(result);
    }
    if (failure) return;
    if (!partial.hold(decoder.buffered)) {
      fail(bufferFull(remote, decoder.buffered, settings));
      return;
    }
    watchFrame(results.length > 0);
  };

  socket.on('data', (chunk: Buffer) => {
    if (failure) return;
    try {
      receive(chunk);
    } catch (error) {
      fail(handlingFailed(remote, error));
    }
  });
  socket.on('error', (error) => {
    if (!failure) failure = describeSocketError(`connection with ${remote}`, error);
  });
  socket.on('close', () => {
    if (frameTimer) clearTimeout(frameTimer);
    frameTimer = null;
    partial.release();
    if (closed) return;
    closed = true;
    handlers.closed(failure);
  });

  return {
    remote,
    send(event: OutgoingEvent): void {
      if (!socket.writable) return;
      // Events sent in one turn of the event loop leave in one system call (no added delay).
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      const frame = event.frame;
      sendQueue.queued(frame.length);
      socket.write(frame, flushed);
    },
    get bufferedBytes(): number {
      return socket.writableLength;
    },
    get unsentBehindCurrent(): number {
      return sendQueue.behindCurrent;
    },
    end(): void {
      if (socket.destroyed) return;
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
    fail,
  };
}

export interface TcpDialOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  lookup?: net.LookupFunction;
}

/**
 * Opens a TCP connection; calls `connected` with the socket once it is up, or `failed` with
 * a ConnectionError that says why (refused, not found, timed out). Returns an abort function.
 */
export function dialTcp(options: TcpDialOptions, connected: (socket: net.Socket) => void, failed: (error: RealvirtualError) => void): () => void {
  const target = `tcp://${hostPort(options.host, options.port)}`;
  const socket = net.connect({ host: options.host, port: options.port, ...(options.lookup ? { lookup: options.lookup } : {}) });
  let settled = false;
  const settle = (error?: RealvirtualError): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    if (error) {
      socket.destroy();
      failed(error);
    } else {
      connected(socket);
    }
  };
  const onError = (error: Error): void => settle(describeSocketError(`cannot connect to ${target}`, error));
  const onClose = (): void => settle(new ConnectionError('ERR_CONNECTION', `cannot connect to ${target}: closed`));
  const timer = setTimeout(() => settle(new ConnectionError('ERR_CONNECTION', `cannot connect to ${target}: no answer within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
  socket.once('connect', () => settle());
  socket.on('error', onError);
  socket.on('close', onClose);
  return () => {
    if (!settled) {
      settled = true;
      clearTimeout(timer);
    }
    socket.destroy();
  };
}
