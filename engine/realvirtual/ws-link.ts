import WebSocket from 'ws';
import { closeSocket } from '../network';
import { FrameLink } from './peers';

/** A FrameLink over a `ws` socket. Sends on a socket that is no longer open are dropped. */
export function socketLink(socket: WebSocket, onSend?: () => void): FrameLink {
  return {
    send(frame: Buffer): void {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(frame, { binary: false });
      if (onSend) onSend();
    },
    get bufferedBytes(): number {
      return socket.bufferedAmount;
    },
    close(code: number, reason: string): void {
      closeSocket(socket, code, reason);
    },
  };
}
