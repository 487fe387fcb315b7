/**
 * TLS with certificates made at test time by openssl (helpers/tls.ts): a wss:// server
 * with a CA-signed certificate, clients that trust that CA, and clients that must fail
 * with a clear ERR_TLS: the wrong CA, the wrong host name, a plain server. A recording
 * proxy in front shows that every attempt starts a TLS handshake: never plain text.
 */
import assert from 'assert/strict';
import net, { AddressInfo } from 'net';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { nextEvent, RawClient, Resources, until, within } from '../helpers/events';
import { RecordingLogger } from '../helpers/faults';
import { makeTlsMaterial, TlsMaterial } from '../helpers/tls';

/** A TCP relay on 127.0.0.1 that records the first byte of every connection (0x16 = a TLS handshake). */
class RecordingRelay {
  readonly firstBytes: number[] = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: net.Server) {}

  static async start(targetPort: number): Promise<RecordingRelay> {
    const server = net.createServer();
    const relay = new RecordingRelay(server);
    server.on('connection', (inbound) => {
      relay.sockets.add(inbound);
      inbound.on('error', () => undefined);
      inbound.once('data', (chunk: Buffer) => {
        relay.firstBytes.push(chunk[0]);
        const outbound = net.connect(targetPort, '127.0.0.1');
        relay.sockets.add(outbound);
        outbound.on('error', () => inbound.destroy());
        outbound.write(chunk);
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('close', () => outbound.destroy());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('TLS (certificates made by openssl at test time)', function () {
  this.timeout(20000);
  const resources = new Resources();
  let tls: TlsMaterial;

  before(function () {
    tls = makeTlsMaterial();
  });
  after(function () {
    tls?.remove();
  });
  afterEach(() => resources.closeAll());

  async function wssServer(): Promise<RealvirtualServer> {
    const server = resources.add(new RealvirtualServer({ port: 0, cycleMs: 0, tls: { cert: tls.cert, key: tls.key } }));
    await server.listen();
    assert.match(server.url, /^wss:\/\//);
    return server;
  }

  it('a wss:// server with a CA-signed certificate; a client that trusts the CA exchanges values', async function () {
    const server = await wssServer();
    const client = resources.add(new RealvirtualClient({ port: server.port, clientName: 'Secure', cycleMs: 0, autoReconnect: false, tls: { ca: tls.ca } }));
    assert.match(client.url, /^wss:\/\/127\.0\.0\.1:/);
    await within(client.connect(), 'the wss:// client to connect');
    client.write('Encrypted', true);
    await until(() => server.values().Encrypted === true, 'the value at the server');
    server.write('Back', 'secure');
    await until(() => client.values().Back === 'secure', 'the value at the client');
    // Also by name: the certificate names localhost too.
    const byName = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false, tls: { ca: tls.ca, servername: 'localhost' } }));
    await within(byName.connect(), 'a client checking the name "localhost"');
  });

  it('a client with the wrong CA fails with ERR_TLS and a clear message; every retry is TLS again, never plain text', async function () {
    const server = await wssServer();
    const relay = resources.add(await RecordingRelay.start(server.port));
    const logger = new RecordingLogger();
    const client = resources.add(
      new RealvirtualClient({ port: relay.port, tls: { ca: tls.otherCa }, reconnectIntervalMs: 10, maxReconnectIntervalMs: 20, reconnectJitter: 0, maxReconnectAttempts: 4, logger }),
    );
    const statuses: string[] = [];
    client.on('status', (status) => statuses.push(status.state));
    const retrying = nextEvent(client, 'status', (status) => status.state === 'reconnecting');
    const failure = await client.connect().then(
      () => null,
      (error: Error & { cause?: Error & { code?: string } }) => error,
    );
    const [status] = await retrying;
    assert.equal(status.error?.code, 'ERR_TLS');
    assert.match(
      String(status.error?.message),
      /cannot connect to wss:\/\/127\.0\.0\.1:\d+\/: TLS: the (server certificate cannot be verified|issuer of the server certificate is unknown) \(give its CA\) \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    );
    assert.equal(failure?.cause?.code, 'ERR_TLS');
    assert.ok(!statuses.includes('connected'));
    assert.equal(server.status.clients, 0);
    assert.equal(relay.firstBytes.length, 5, 'the first attempt and four retries');
    assert.ok(
      relay.firstBytes.every((byte) => byte === 0x16),
      `an attempt did not start with a TLS handshake: ${relay.firstBytes.map((b) => b.toString(16))}`,
    );
    assert.equal(logger.visible.length, 2, `one line while retrying, one on giving up: ${JSON.stringify(logger.visible)}`);
  });

  it('a client whose expected host name is not in the certificate fails with ERR_TLS', async function () {
    const server = await wssServer();
    const client = resources.add(new RealvirtualClient({ port: server.port, autoReconnect: false, tls: { ca: tls.ca, servername: 'plc.example' } }));
    const failure = await client.connect().then(
      () => null,
      (error: Error & { cause?: Error & { code?: string; message: string } }) => error,
    );
    assert.equal(failure?.cause?.code, 'ERR_TLS');
    assert.match(String(failure?.cause?.message), /does not match the host name \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
  });

  it('a TLS client against a plain ws:// server fails (no downgrade), and a plain client against the wss:// server gets no WebSocket', async function () {
    const plain = resources.add(new RealvirtualServer({ port: 0 }));
    await plain.listen();
    const secureClient = resources.add(new RealvirtualClient({ port: plain.port, autoReconnect: false, tls: { ca: tls.ca } }));
    const failure = await secureClient.connect().then(
      () => null,
      (error: Error & { cause?: Error & { code?: string; message: string } }) => error,
    );
    assert.ok(failure, 'a TLS client must not connect to a plain server');
    assert.match(String(failure.cause?.message), /TLS|wss:\/\//);
    assert.equal(plain.status.clients, 0);

    const server = await wssServer();
    await assert.rejects(RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    assert.equal(server.status.clients, 0);
  });
});
