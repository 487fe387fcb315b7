/**
 * MinVR3's WebSocket variant (its JavaScript client and WebSocket plugin): each text message
 * is one bare VREvent JSON, no length prefix.
 */
import { printable } from '../log-budget';
import WebSocket from 'ws';
import { ConnectionError, ProtocolError, RealvirtualError } from '../errors';
import { Heartbeat } from '../lifecycle';
import { closeSocket, describeSocketError } from '../sockets';
import { decodeEvent } from './events';
import { OutgoingEvent } from './framing';
import { CLOSE_GRACE_MS, LinkHandlers, PeerLink } from './link';

export interface WebSocketLinkSettings {
  maxFrame: number;
  /** Ping period; a peer silent for two periods is dropped. 0 = off. */
  heartbeatMs: number;
}

/** Wraps an open `ws` socket (either role). */
export function webSocketLink(socket: WebSocket, remote: string, settings: WebSocketLinkSettings, handlers: LinkHandlers): PeerLink {
  let failure: RealvirtualError | undefined;
  let closed = false;
  const fail = (error: RealvirtualError): void => {
    if (failure || closed) return;
    failure = error;
    socket.terminate();
  };
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
      else throw error;
      return;
    }
    handlers.event(event);
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
      if (socket.readyState === WebSocket.OPEN) socket.send(event.text, { binary: false });
    },
    get bufferedBytes(): number {
      return socket.bufferedAmount;
    },
    end(): void {
      closeSocket(socket, 1000, 'closing', CLOSE_GRACE_MS);
    },
    fail,
  };
}
