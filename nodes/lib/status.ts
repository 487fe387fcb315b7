import { EndpointStatus, internals, MinVRStatus } from '../../engine';
import { NodeStatus } from './red';

const { escapeUnprintable } = internals;

export type Translate = (key: string, substitutions?: Record<string, unknown>) => string;

const MAX_TEXT = 60;

/** A status text: short, and with the control characters a peer may have put in it escaped. */
export function shorten(text: string): string {
  return escapeUnprintable(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);
}

/**
 * Maps an engine's status to a node status: green when usable, yellow while connecting, red
 * when not. `catalog` is the connection node type whose `status.*` messages are used.
 */
export function nodeStatusFor(status: EndpointStatus | MinVRStatus, _: Translate, catalog = 'realvirtual-connection'): NodeStatus {
  const t = (key: string, substitutions?: Record<string, unknown>): string => _(`${catalog}.status.${key}`, substitutions);
  switch (status.state) {
    case 'listening':
      if (status.clients === 0) return { fill: 'green', shape: 'ring', text: t('listening') };
      return { fill: 'green', shape: 'dot', text: t('clients', { count: status.clients }) };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: shorten(t('connected', { peer: status.peerName ?? '' })) };
    case 'idle':
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: t('connecting') };
    case 'reconnecting':
      // A server retrying a busy port was never connected: it says why it cannot listen.
      if (status.error?.code === 'ERR_LISTEN') return errorStatus(status.error);
      return {
        fill: 'red',
        shape: 'ring',
        text: shorten(t('disconnected', { reason: status.error ? shortReason(status.error) : '' })),
      };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: shorten(status.error ? status.error.message : t('failed')) };
    case 'closed':
      return { fill: 'red', shape: 'ring', text: t('closed') };
  }
}

/** A few words for a status dot: the system error code (ECONNREFUSED…) or the engine's code. */
export function shortReason(error: Error & { code?: string; cause?: unknown }): string {
  const cause = error.cause as { code?: unknown } | undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error.code ?? error.message;
}

export function errorStatus(error: Error): NodeStatus {
  return { fill: 'red', shape: 'ring', text: shorten(error.message) };
}
