/**
 * MinVR3's WebSocket variant (its JavaScript client and WebSocket plugin): each text message
 * is one bare VREvent JSON, no length prefix.
 */
import { printable } from '../text';
import { Duplex } from 'stream';
import WebSocket from 'ws';
import { ConnectionError, ProtocolError, RealvirtualError } from '../errors';
import { Heartbeat } from '../lifecycle';
import { closeSocket, describeSocketError } from '../network';
import { decodeEvent } from './events';
import { OutgoingEvent } from './framing';
import { bufferFull, CLOSE_GRACE_MS, handlingFailed, LinkHandlers, PartialFrameLimit, MinVRLink } from './link';
import { SendQueue } from './send-queue';
import { WebSocketPartialMeter } from './ws-partial';

export interface WebSocketLinkSettings extends PartialFrameLimit {
  maxFrame: number;
  /** Ping period; a peer silent for two periods is dropped. 0 = off. */
  heartbeatMs: number;
}

/**
 * Wraps an open `ws` socket (either role). `raw` is the network socket under it, whose bytes are
 * followed to count those of incomplete messages against the partial-frame budget.
 */
export function webSocketLink(socket: WebSocket, raw: Duplex | undefined, remote: string, settings: WebSocketLinkSettings, handlers: LinkHandlers): MinVRLink {
  let failure: RealvirtualError | undefined;
  let closed = false;
  const partial = settings.partialBudget.account();
  const meter = new WebSocketPartialMeter();
  const sendQueue = new SendQueue();
  const flushed = (): void => sendQueue.flushed();
  const fail = (error: RealvirtualError): void => {
    if (failure || closed) return;
    failure = error;
    partial.release();
    raw?.off('data', measure);
    socket.terminate();
  };
  function measure(chunk: Buffer): void {
    meter.push(chunk);
    if (!partial.hold(meter.pending)) fail(bufferFull(remote, meter.pending, settings));
  }
  raw?.on('data', measure);
  const heartbeat = new Heartbeat(
    settings.heartbeatMs,
    () => {
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    },
    () => fail(new ConnectionError('ERR_HEARTBEAT_TIMEOUT', `${remote} answered no ping within ${2 * settings.heartbeatMs} ms (half-open connection): dropped`)),
  );

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    heartbeat.alive();
    if (failure) return;
    if (isBinary) {
      handlers.problem(new ProtocolError('ERR_BINARY_FRAME', `${remote} sent a binary message: MinVR3 WebSocket messages are text (one VREvent JSON each)`));
      return;
    }
    let event;
    try {
      event = decodeEvent(data.toString('utf8'));
    } catch (error) {
      if (error instanceof RealvirtualError) handlers.problem(error);
      else fail(handlingFailed(remote, error));
      return;
    }
    try {
      handlers.event(event);
    } catch (error) {
      fail(handlingFailed(remote, error));
    }
  });
  socket.on('pong', () => heartbeat.alive());
  socket.on('error', (error: Error & { code?: string }) => {
    if (failure) return;
    failure =
      error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? new ConnectionError('ERR_MINVR_FRAME_TOO_LARGE', `${remote} sent a message larger than maxFrame (${settings.maxFrame} bytes): peer dropped (close 1009)`, { cause: error })
        : describeSocketError(`connection with ${remote}`, error);
  });
  socket.on('close', (code: number, reason: Buffer) => {
    heartbeat.stop();
    partial.release();
    raw?.off('data', measure);
    if (closed) return;
    closed = true;
    const polite = code === 1000 || code === 1001;
    const why = `${remote} closed the connection with code ${code}${reason.length > 0 ? `: ${printable(reason.toString(), 200)}` : ''}`;
    handlers.closed(failure ?? (polite ? undefined : new ConnectionError('ERR_CONNECTION', why)));
  });
  heartbeat.start();

  return {
    remote,
    send(event: OutgoingEvent): void {
      if (socket.readyState !== WebSocket.OPEN) return;
      const text = event.text;
      sendQueue.queued(text.length);
      socket.send(text, { binary: false }, flushed);
    },
    get bufferedBytes(): number {
      return socket.bufferedAmount;
    },
    get unsentBehindCurrent(): number {
      return sendQueue.behindCurrent;
    },
    end(): void {
      closeSocket(socket, 1000, 'closing', CLOSE_GRACE_MS);
    },
    fail,
  };
}
