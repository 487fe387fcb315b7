import { PeerLink } from '../endpoint-shell';
import { ConnectionError, RealvirtualError } from '../errors';
import { hostPort } from '../network';
import { clip } from '../text';
import { VREvent } from './events';
import { OutgoingEvent } from './framing';
import { PartialFrameBudget } from './partial-budget';

/** What a link reports about the socket it wraps. `closed` is called exactly once. */
export interface LinkHandlers {
  event(event: VREvent): void;
  /** A frame that could not be used; the connection goes on. */
  problem(error: RealvirtualError): void;
  /** The socket is gone; `error` says why when it was not a polite close. */
  closed(error?: RealvirtualError): void;
}

/** One connected MinVR3 peer, whatever the transport. */
export interface MinVRLink extends PeerLink<OutgoingEvent> {
  /** "address:port" of the other side. */
  readonly remote: string;
  /** Unsent bytes of the events queued behind the one being written (the slow-peer measure). */
  readonly unsentBehindCurrent: number;
  /** Closes politely; the socket is destroyed if the peer does not finish within a short grace. */
  end(): void;
  /** Drops the peer at once, reporting `error` as the reason. */
  fail(error: RealvirtualError): void;
}

/** What a link is told about the bytes of incomplete frames it may hold. */
export interface PartialFrameLimit {
  partialBudget: PartialFrameBudget;
  maxPartialBytes: number;
}

/** The error of a peer dropped because its incomplete frame would not fit in the budget. */
export function bufferFull(remote: string, bytes: number, limit: PartialFrameLimit): ConnectionError {
  return new ConnectionError(
    'ERR_MINVR_BUFFER_FULL',
    `${remote} sent part of a frame (${bytes} bytes) that does not fit in maxPartialBytes (${limit.maxPartialBytes} bytes for the incomplete frames of all peers, ${limit.partialBudget.held} held): peer dropped`,
  );
}

/** The error of a peer dropped because handling its bytes failed unexpectedly (a defect, not the peer's input). */
export function handlingFailed(remote: string, error: unknown): ConnectionError {
  return new ConnectionError('ERR_MINVR_EVENT', `reading from ${remote} failed (${clip(String((error as Error)?.message ?? error))}): peer dropped`, { cause: error });
}

/** How long end() waits for the peer's side of the close. */
export const CLOSE_GRACE_MS = 300;

export function remoteOf(address: string | undefined, port: number | undefined): string {
  return hostPort(address ?? 'unknown', port ?? 0);
}
