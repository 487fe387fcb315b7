import { EndpointStatus } from '../../engine/realvirtual/endpoint';
import { NodeStatus } from './red';

export type Translate = (key: string, substitutions?: Record<string, unknown>) => string;

const MAX_TEXT = 60;

export function shorten(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

/** Maps the engine's status to a node status: green when usable, yellow while connecting, red when not. */
export function nodeStatusFor(status: EndpointStatus, _: Translate): NodeStatus {
  switch (status.state) {
    case 'listening':
      if (status.clients === 0) return { fill: 'green', shape: 'ring', text: _('realvirtual-connection.status.listening') };
      return { fill: 'green', shape: 'dot', text: _('realvirtual-connection.status.clients', { count: status.clients }) };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: _('realvirtual-connection.status.connected', { peer: status.peerName ?? '' }) };
    case 'idle':
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: _('realvirtual-connection.status.connecting') };
    case 'reconnecting':
      return {
        fill: 'red',
        shape: 'ring',
        text: shorten(_('realvirtual-connection.status.disconnected', { reason: status.error ? shortReason(status.error) : '' })),
      };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: shorten(status.error ? status.error.message : _('realvirtual-connection.status.failed')) };
    case 'closed':
      return { fill: 'red', shape: 'ring', text: _('realvirtual-connection.status.closed') };
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
