import { RealvirtualError } from '../errors';
import { VREvent } from './events';
import { OutgoingEvent } from './framing';

/** What a link reports about the socket it wraps. `closed` is called exactly once. */
export interface LinkHandlers {
  event(event: VREvent): void;
  /** A frame that could not be used; the connection goes on. */
  problem(error: RealvirtualError): void;
  /** The socket is gone; `error` says why when it was not a polite close. */
  closed(error?: RealvirtualError): void;
}

/** One connected peer, whatever the transport. */
export interface PeerLink {
  /** "address:port" of the other side. */
  readonly remote: string;
  send(event: OutgoingEvent): void;
  /** Bytes accepted by send but not yet handed to the network. */
  readonly bufferedBytes: number;
  /** Closes politely; the socket is destroyed if the peer does not finish within a short grace. */
  end(): void;
  /** Drops the peer at once, reporting `error` as the reason. */
  fail(error: RealvirtualError): void;
}

/** How long end() waits for the peer's side of the close. */
export const CLOSE_GRACE_MS = 300;

export function remoteOf(address: string | undefined, port: number | undefined): string {
  const host = address ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}
