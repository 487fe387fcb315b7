/**
 * Socket helpers without sockets: what every socket, TLS and `ws` error becomes (code and
 * text), which hosts count as this machine, and closeSocket's bounded close on a fake
 * socket and a fake clock. The socket tests (client, server, faults, tls) keep covering
 * the same helpers over real connections.
 */
import assert from 'assert/strict';
import { EventEmitter } from 'events';
import WebSocket from 'ws';
import { Clock, systemClock, TimerHandle } from '../../engine/clock';
import { ConnectionError, ErrorCode, ProtocolError, RealvirtualError } from '../../engine/errors';
import { closeSocket, ClosableSocket, describeSocketError, isLoopback } from '../../engine/network';
import { FakeClock } from '../helpers/fake-clock';

function systemError(code: string, message = `some ${code} text`): Error {
  return Object.assign(new Error(message), { code });
}

function described(error: unknown, code?: ErrorCode, limits?: { maxPayload: number }): { code: string; message: string } {
  const result = describeSocketError('cannot connect to ws://plc:1234/', error, code, limits);
  assert.ok(result instanceof RealvirtualError);
  return { code: result.code, message: result.message };
}

describe('socket helpers (no sockets)', function () {
  describe('describeSocketError', function () {
    it('system errors: what to check, with the system code, under the given engine code', function () {
      const cases: Array<[string, string]> = [
        ['ECONNREFUSED', 'connection refused: is the server running and listening on that port?'],
        ['ENOTFOUND', 'host name not found'],
        ['EAI_AGAIN', 'host name lookup failed (temporary)'],
        ['EHOSTUNREACH', 'host unreachable'],
        ['ENETUNREACH', 'network unreachable'],
        ['ETIMEDOUT', 'connection timed out'],
        ['ECONNRESET', 'connection reset by peer'],
        ['EPIPE', 'connection broken'],
        ['EADDRINUSE', 'address already in use: another program (or an older flow) holds this port'],
        ['EADDRNOTAVAIL', 'address not available on this machine'],
        ['EACCES', 'permission denied (ports below 1024 need privileges)'],
      ];
      for (const [systemCode, text] of cases) {
        assert.deepEqual(described(systemError(systemCode)), { code: 'ERR_CONNECTION', message: `cannot connect to ws://plc:1234/: ${text} (${systemCode})` });
      }
      assert.equal(described(systemError('EADDRINUSE'), 'ERR_LISTEN').code, 'ERR_LISTEN', 'the caller chooses the code');
    });

    it('TLS failures are ERR_TLS, known ones explained, the others with their own text', function () {
      assert.deepEqual(described(systemError('DEPTH_ZERO_SELF_SIGNED_CERT')), {
        code: 'ERR_TLS',
        message: 'cannot connect to ws://plc:1234/: TLS: the server certificate is self-signed and not trusted (give its CA) (DEPTH_ZERO_SELF_SIGNED_CERT)',
      });
      for (const systemCode of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
        const result = described(systemError(systemCode));
        assert.equal(result.code, 'ERR_TLS', systemCode);
        assert.match(result.message, new RegExp(`: TLS: .*\\(${systemCode}\\)$`));
      }
      for (const systemCode of ['UNABLE_TO_GET_ISSUER_CERT', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO']) {
        assert.deepEqual(described(systemError(systemCode, 'the library says why')), {
          code: 'ERR_TLS',
          message: `cannot connect to ws://plc:1234/: TLS: the library says why (${systemCode})`,
        });
      }
    });

    it('ws frame errors: a frame over maxPayload (with the limit when given) and invalid UTF-8', function () {
      assert.deepEqual(described(systemError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'), 'ERR_CONNECTION', { maxPayload: 1024 }), {
        code: 'ERR_PAYLOAD_TOO_LARGE',
        message: 'cannot connect to ws://plc:1234/: a frame larger than maxPayload (1024 bytes) arrived: closed with code 1009 (raise maxPayload if such frames are expected)',
      });
      assert.deepEqual(described(systemError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')), {
        code: 'ERR_PAYLOAD_TOO_LARGE',
        message: 'cannot connect to ws://plc:1234/: frame larger than maxPayload: closed with code 1009 (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH)',
      });
      assert.deepEqual(described(systemError('WS_ERR_INVALID_UTF8')), {
        code: 'ERR_INVALID_UTF8',
        message: 'cannot connect to ws://plc:1234/: text frame is not valid UTF-8: closed with code 1007 (WS_ERR_INVALID_UTF8)',
      });
    });

    it('a refused upgrade: 401, 403, 404 and 503 explained, any other status named', function () {
      const refused = (status: number) => described(new Error(`Unexpected server response: ${status}`));
      assert.deepEqual(refused(401), { code: 'ERR_UNAUTHORIZED', message: 'cannot connect to ws://plc:1234/: the server refused the connection (HTTP 401): wrong or missing secret' });
      assert.deepEqual(refused(403), { code: 'ERR_FORBIDDEN_ORIGIN', message: 'cannot connect to ws://plc:1234/: the server refused the connection (HTTP 403): origin not allowed' });
      assert.deepEqual(refused(404), { code: 'ERR_CONNECTION', message: 'cannot connect to ws://plc:1234/: the server has no WebSocket endpoint on this path (HTTP 404): check the path' });
      assert.deepEqual(refused(503), { code: 'ERR_TOO_MANY_CLIENTS', message: 'cannot connect to ws://plc:1234/: the server refused the connection (HTTP 503): it has its maximum number of clients' });
      assert.deepEqual(refused(500), { code: 'ERR_CONNECTION', message: 'cannot connect to ws://plc:1234/: the server refused the WebSocket upgrade with HTTP 500' });
      assert.equal(
        described(new Error('Unexpected server response: 500 and more')).message,
        'cannot connect to ws://plc:1234/: Unexpected server response: 500 and more',
        'only the exact wording of ws',
      );
    });

    it('a handshake timeout is ERR_HANDSHAKE_TIMEOUT', function () {
      assert.deepEqual(described(new Error('Opening handshake has timed out')), { code: 'ERR_HANDSHAKE_TIMEOUT', message: 'cannot connect to ws://plc:1234/: the opening handshake timed out' });
    });

    it('engine errors pass unchanged; anything else keeps its text and becomes the cause', function () {
      const engine = new ProtocolError('ERR_INVALID_JSON', 'bad frame');
      assert.equal(describeSocketError('x', engine), engine);
      const plain = new Error('something odd');
      const wrapped = describeSocketError('connection to a', plain);
      assert.ok(wrapped instanceof ConnectionError);
      assert.equal(wrapped.message, 'connection to a: something odd');
      assert.equal((wrapped as { cause?: unknown }).cause, plain);
      assert.equal(described(systemError('EWEIRD', 'weird thing')).message, 'cannot connect to ws://plc:1234/: weird thing', 'an unknown system code: its own text');
      assert.equal(described(Object.assign(new Error('numeric code'), { code: 42 })).message, 'cannot connect to ws://plc:1234/: numeric code');
      assert.equal(described('a string thrown').message, 'cannot connect to ws://plc:1234/: a string thrown');
      assert.equal(described(undefined).code, 'ERR_CONNECTION', 'no crash without an error');
      assert.equal(described(null).code, 'ERR_CONNECTION');
    });
  });

  describe('isLoopback', function () {
    it('names and addresses only this machine can reach', function () {
      for (const host of ['localhost', ' LocalHost ', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2', '::ffff:7f00:1', '0::1']) {
        assert.equal(isLoopback(host), true, host);
      }
    });

    it('everything else, also host names that merely start like a loopback address', function () {
      for (const host of ['0.0.0.0', '::', '', '192.168.0.10', '10.127.0.1', '::ffff:10.0.0.1', 'localhost.example.com', '127.example.com', '127.0.0.1.nip.io', 'plc', '::2', '1::1']) {
        assert.equal(isLoopback(host), false, host);
      }
    });
  });

  describe('closeSocket', function () {
    class FakeSocket extends EventEmitter {
      readyState: number = WebSocket.OPEN;
      readonly calls: string[] = [];
      failClose = false;
      close(code?: number, reason?: string): void {
        this.calls.push(`close ${code} ${reason}`);
        if (this.failClose) throw new Error('invalid close code');
        this.readyState = WebSocket.CLOSING;
      }
      terminate(): void {
        this.calls.push('terminate');
        this.readyState = WebSocket.CLOSED;
      }
      /** The peer answered the close (or the socket went away): `ws` emits 'close'. */
      closed(): void {
        this.readyState = WebSocket.CLOSED;
        this.emit('close');
      }
    }
    const asSocket = (socket: FakeSocket): ClosableSocket => socket as unknown as ClosableSocket;

    it('an open socket: the close handshake, and no terminate when the peer answers within the grace time', function () {
      const clock = new FakeClock();
      const socket = new FakeSocket();
      closeSocket(asSocket(socket), 1000, 'bye', 200, clock);
      assert.deepEqual(socket.calls, ['close 1000 bye']);
      assert.deepEqual(clock.dueIn(), [200]);
      clock.advance(199);
      socket.closed();
      assert.equal(clock.pending, 0, 'the grace timer is cleared');
      clock.advance(1000);
      assert.deepEqual(socket.calls, ['close 1000 bye']);
    });

    it('a peer that never answers is terminated exactly when the grace time ends', function () {
      const clock = new FakeClock();
      const socket = new FakeSocket();
      closeSocket(asSocket(socket), 1001, 'going away', 1000, clock);
      clock.advance(999);
      assert.deepEqual(socket.calls, ['close 1001 going away']);
      clock.advance(1);
      assert.deepEqual(socket.calls, ['close 1001 going away', 'terminate']);
    });

    it('the default grace time is 1 s', function () {
      const clock = new FakeClock();
      closeSocket(asSocket(new FakeSocket()), 1000, '', undefined, clock);
      assert.deepEqual(clock.dueIn(), [1000]);
    });

    it('a socket still connecting is terminated at once; a closed one is left alone; a failing close terminates', function () {
      const clock = new FakeClock();
      const connecting = new FakeSocket();
      connecting.readyState = WebSocket.CONNECTING;
      closeSocket(asSocket(connecting), 1000, 'bye', 200, clock);
      assert.deepEqual(connecting.calls, ['terminate']);
      const closed = new FakeSocket();
      closed.readyState = WebSocket.CLOSED;
      closeSocket(asSocket(closed), 1000, 'bye', 200, clock);
      assert.deepEqual(closed.calls, []);
      const failing = new FakeSocket();
      failing.failClose = true;
      closeSocket(asSocket(failing), 999, 'bad code', 200, clock);
      assert.deepEqual(failing.calls, ['close 999 bad code', 'terminate']);
      assert.equal(clock.pending, 0, 'no timer for any of them');
    });

    it('with the real clock the grace timer does not keep the process alive', function () {
      const handles: TimerHandle[] = [];
      const recording: Clock = {
        ...systemClock,
        setTimeout: (callback, ms) => {
          const handle = systemClock.setTimeout(callback, ms);
          handles.push(handle);
          return handle;
        },
      };
      const socket = new FakeSocket();
      closeSocket(asSocket(socket), 1000, 'bye', 60000, recording);
      assert.equal(handles.length, 1);
      assert.equal((handles[0] as NodeJS.Timeout).hasRef(), false);
      socket.closed();
      assert.deepEqual(socket.calls, ['close 1000 bye']);
    });
  });
});
