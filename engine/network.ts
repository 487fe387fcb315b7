/**
 * Socket helpers shared by every protocol: closing a `ws` socket within a bounded time, and
 * turning socket, TLS and `ws` errors into ConnectionErrors that say what to check.
 */
import { BlockList, isIPv4, isIPv6 } from 'net';
import WebSocket from 'ws';
import { Clock, systemClock, unrefTimer } from './clock';
import { ConnectionError, ErrorCode, RealvirtualError } from './errors';

/** What closeSocket needs of a `ws` socket. */
export type ClosableSocket = Pick<WebSocket, 'readyState' | 'close' | 'terminate' | 'once'>;

/** Starts a close handshake and makes sure the socket is gone within `graceMs` even if the peer never answers. */
export function closeSocket(socket: ClosableSocket, code: number, reason: string, graceMs = 1000, clock: Clock = systemClock): void {
  if (socket.readyState === WebSocket.CLOSED) return;
  if (socket.readyState === WebSocket.CONNECTING) {
    socket.terminate();
    return;
  }
  try {
    socket.close(code, reason);
  } catch {
    socket.terminate();
    return;
  }
  const timer = clock.setTimeout(() => socket.terminate(), graceMs);
  unrefTimer(timer);
  socket.once('close', () => clock.clearTimeout(timer));
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** A URL path trimmed, with one leading "/" unless it is empty. */
export function withLeadingSlash(path: string): string {
  const trimmed = path.trim();
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** "host:port", with an IPv6 address in brackets ("[::1]:1234"). */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * True for an address only this machine can reach: localhost, 127.0.0.0/8 and ::1, in any
 * spelling (brackets, written out, IPv4-mapped). Only literal addresses count: a host name
 * such as 127.example.com may resolve anywhere.
 */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return LOOPBACK.check(h, 'ipv4');
  return isIPv6(h) && LOOPBACK.check(h, 'ipv6');
}

const SYSTEM_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is the server running and listening on that port?',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection broken',
  EADDRINUSE: 'address already in use: another program (or an older flow) holds this port',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: the server certificate is self-signed and not trusted (give its CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: a self-signed certificate in the chain is not trusted (give its CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: the server certificate cannot be verified (give its CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: the issuer of the server certificate is unknown (give its CA)',
  CERT_HAS_EXPIRED: 'TLS: the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: the server certificate does not match the host name',
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 'frame larger than maxPayload: closed with code 1009',
  WS_ERR_INVALID_UTF8: 'text frame is not valid UTF-8: closed with code 1007',
};

/** TLS failures: not transient, and never answered by falling back to plain text. */
const TLS_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** What a refused WebSocket upgrade means, by HTTP status. */
const HTTP_REFUSALS: Record<number, { code: ErrorCode; text: string }> = {
  401: { code: 'ERR_UNAUTHORIZED', text: 'the server refused the connection (HTTP 401): wrong or missing secret' },
  403: { code: 'ERR_FORBIDDEN_ORIGIN', text: 'the server refused the connection (HTTP 403): origin not allowed' },
  404: { code: 'ERR_CONNECTION', text: 'the server has no WebSocket endpoint on this path (HTTP 404): check the path' },
  503: { code: 'ERR_TOO_MANY_CLIENTS', text: 'the server refused the connection (HTTP 503): it has its maximum number of clients' },
};

/** Turns a socket or `ws` error into a ConnectionError that says what happened and what to check. */
export function describeSocketError(what: string, error: unknown, code: ErrorCode = 'ERR_CONNECTION', limits?: { maxPayload: number }): RealvirtualError {
  if (error instanceof RealvirtualError) return error;
  const cause = error as (Error & { code?: string }) | undefined;
  const systemCode = cause && typeof cause.code === 'string' ? cause.code : undefined;
  let text = systemCode && SYSTEM_ERRORS[systemCode] ? `${SYSTEM_ERRORS[systemCode]} (${systemCode})` : (cause?.message ?? String(error));
  let finalCode = code;
  if (systemCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    finalCode = 'ERR_PAYLOAD_TOO_LARGE';
    if (limits) text = `a frame larger than maxPayload (${limits.maxPayload} bytes) arrived: closed with code 1009 (raise maxPayload if such frames are expected)`;
  }
  if (systemCode === 'WS_ERR_INVALID_UTF8') finalCode = 'ERR_INVALID_UTF8';
  if (systemCode && TLS_ERRORS.has(systemCode)) {
    finalCode = 'ERR_TLS';
    if (!SYSTEM_ERRORS[systemCode]) text = `TLS: ${cause?.message ?? systemCode} (${systemCode})`;
  }
  const refused = cause && typeof cause.message === 'string' ? /^Unexpected server response: (\d+)$/.exec(cause.message) : null;
  if (refused) {
    const status = Number(refused[1]);
    const known = HTTP_REFUSALS[status];
    finalCode = known ? known.code : finalCode;
    text = known ? known.text : `the server refused the WebSocket upgrade with HTTP ${status}`;
  }
  if (cause && typeof cause.message === 'string' && /handshake has timed out/i.test(cause.message)) {
    finalCode = 'ERR_HANDSHAKE_TIMEOUT';
    text = 'the opening handshake timed out';
  }
  return new ConnectionError(finalCode, `${what}: ${text}`, { cause: error });
}
