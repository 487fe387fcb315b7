/**
 * MinVR3 VREvent transports over real sockets on 127.0.0.1, for the TCP JSON connection and
 * the WebSocket variant, in both roles: our client against our server, and our engine against
 * peers written here by hand (TCP frames built with Buffer.writeUInt32LE on a bare `net`
 * socket, bare `ws` text messages, WebSocket frames cut in half on a raw socket).
 */
import assert from 'assert/strict';
import { EventEmitter } from 'events';
import http from 'http';
import net, { AddressInfo } from 'net';
import {
  ErrorCode,
  MinVRClient,
  MinVRClientOptions,
  MinVREndpoint,
  MinVREvents,
  MinVRPeerInfo,
  MinVRServer,
  MinVRServerOptions,
  MinVRStatus,
  MINVR_DEFAULTS,
  MINVR_TRANSPORTS,
  RealvirtualError,
  VREvent,
} from '../../engine';
import { collectEvents, delay, FrameLog, freePort, nextEvent, rawWebSocket, RawClient, RawServer, rejectionOf, Resources, ScriptedServer, until, WAIT_MS, within } from '../helpers/events';
import { catchUncaught, gc, upgradeAnswer, wsFrame } from '../helpers/faults';
import { VREVENT_SAMPLES } from '../helpers/minvr-events';

/** Quick retries without jitter, so that reconnect tests stay short. */
const FAST_RETRY = { reconnectIntervalMs: 30, maxReconnectIntervalMs: 150, reconnectJitter: 0 };

/** A small maxFrame for the oversize tests. */
const SMALL_FRAME = 1024;

type Args<E extends keyof MinVREvents> = Parameters<MinVREvents[E]>;

/** nextEvent, typed for a MinVR3 endpoint. */
function next<E extends keyof MinVREvents>(endpoint: MinVREndpoint, name: E, predicate?: (...args: Args<E>) => boolean, timeoutMs = WAIT_MS): Promise<Args<E>> {
  return nextEvent(endpoint, name, predicate as ((...args: any[]) => boolean) | undefined, timeoutMs) as Promise<Args<E>>;
}

/** collectEvents, typed for a MinVR3 endpoint. */
/** Sends `events` from one endpoint (each to its one peer) and resolves with what the other emitted, in order, with the peer each came from. */
async function sendAll(from: MinVREndpoint, to: MinVREndpoint, events: readonly VREvent[]): Promise<Array<Args<'event'>>> {
  const arrived = collect(to, 'event', events.length);
  for (const event of events) assert.equal(from.send(event), 1);
  return arrived;
}

function collect<E extends keyof MinVREvents>(endpoint: MinVREndpoint, name: E, count: number, timeoutMs = WAIT_MS): Promise<Array<Args<E>>> {
  return collectEvents(endpoint, name, count, undefined, timeoutMs) as Promise<Array<Args<E>>>;
}

/** Records every `name` event of `endpoint` from now on. */
function record<E extends keyof MinVREvents>(endpoint: MinVREndpoint, name: E): Array<Args<E>> {
  const seen: Array<Args<E>> = [];
  endpoint.on(name, ((...args: Args<E>) => void seen.push(args)) as MinVREvents[E]);
  return seen;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof RealvirtualError ? error.code : undefined;
}

function statusLine(status: MinVRStatus): string {
  return `${status.state}:${status.clients}`;
}

/** One MinVR3 TCP frame, built by hand: little-endian uint32 byte count, then the bytes (UTF-8 for a string). */
function frame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = Buffer.alloc(4);
  header.writeUInt32LE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

/** A frame header announcing `length` bytes, followed by only `partial` of them. */
function truncatedFrame(length: number, partial: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(length, 0);
  return Buffer.concat([header, Buffer.alloc(partial, 0x20)]);
}

/** Hand-written VREvent JSON of an Int32 event. */
function intJson(name: string, value: number): string {
  return `{"m_Name":${JSON.stringify(name)},"m_DataTypeName":"Int32","m_Data":${value}}`;
}

/** Hand-written VREvent JSON of a String event of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const head = '{"m_Name":"Sized","m_DataTypeName":"String","m_Data":"';
  const tail = '"}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

/** Hand-written VREvent JSON of an event of unknown type whose m_Data is an array nested `depth` deep. */
function nestedJson(depth: number): string {
  return `{"m_Name":"Deep","m_DataTypeName":"My.Nested","m_Data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

/**
 * The head of a masked WebSocket text frame announcing `length` payload bytes (64-bit length),
 * with a zero masking key, so that the payload bytes that follow go on the wire as they are.
 */
function wsTextHead(length: number): Buffer {
  const head = Buffer.alloc(14);
  head[0] = 0x81;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(length), 2);
  return head;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Process memory for the test output: resident set and the bytes of Buffers. */
function memoryLine(label: string): string {
  const { rss, arrayBuffers } = process.memoryUsage();
  return `${label}: rss ${mib(rss)}, buffers ${mib(arrayBuffers)}`;
}

/** The VREvent JSON object MinVR3 expects for `event` (m_Data left out when there is none). */
function wireObject(event: VREvent): Record<string, unknown> {
  const data = (event as { data?: unknown }).data;
  return data === undefined || event.type === '' ? { m_Name: event.name, m_DataTypeName: event.type } : { m_Name: event.name, m_DataTypeName: event.type, m_Data: data };
}

/** Every event we can send (GameObject is receive only), each a little awkward. */
/** Every sendable type, and a few more edge values than the codec's samples. */
const SENDABLE: VREvent[] = [
  ...VREVENT_SAMPLES,
  { name: 'Whole', type: 'Single', data: 1 },
  { name: 'Controls', type: 'String', data: '\u0000 \u007f' },
  { name: 'Huge', type: 'Vector4', data: { x: 1, y: 0, z: 0.5, w: 1e20 } },
  { name: '', type: 'Int32', data: 0 },
];

const UNKNOWN: VREvent[] = [
  { name: 'Custom', type: 'My.Namespace.MyType', data: { list: [1, 2.5, 'two', true, null], nested: { deep: [{}] } }, unknownType: true },
  { name: 'Custom/Scalar', type: 'Double', data: 2.5, unknownType: true },
  { name: 'Custom/NoData', type: 'Mystery', unknownType: true },
];

/** Non-ASCII text: Latin-1, CJK, emoji (surrogate pairs), a line separator, a lone surrogate. */
const UNICODE: VREvent[] = [
  { name: 'Grüße/🎉', type: 'String', data: 'Grüße, 日本語, emoji 🎉🚀, ✓, \u2028, lone \ud800 half' },
  { name: 'Emoji', type: 'String', data: '😀'.repeat(200) },
  { name: 'Ünknown', type: 'Typ-ä', data: { schlüssel: ['wert 🚀'] }, unknownType: true },
];

/** Events as MinVR3 apps write them (Unity, the JavaScript and C++ clients), and what we must make of them. */
const AS_WRITTEN: Array<[string, VREvent]> = [
  ['{"m_Name":"MinVR3/Shutdown","m_DataTypeName":""}', { name: 'MinVR3/Shutdown', type: '' }],
  ['{"m_Name":"Js/NoData","m_DataTypeName":"","m_Data":null}', { name: 'Js/NoData', type: '' }],
  ['{"m_DataTypeName":"Single","m_Data":1.0,"m_Name":"Reordered"}', { name: 'Reordered', type: 'Single', data: 1 }],
  ['{"m_Name":"MinVR3/DeltaTime","m_DataTypeName":"Single","m_Data":0.01666666753590107}\n', { name: 'MinVR3/DeltaTime', type: 'Single', data: 0.01666666753590107 }],
  ['{"m_Name":"Count","m_DataTypeName":"Int32","m_Data":7.0}', { name: 'Count', type: 'Int32', data: 7 }],
  ['{"m_Name":"Label","m_DataTypeName":"String","m_Data":"Gr\\u00fc\\u00dfe \\ud83c\\udf89"}', { name: 'Label', type: 'String', data: 'Grüße 🎉' }],
  ['{"m_Name":"Stick","m_DataTypeName":"Vector2","m_Data":{"x":1.0,"y":2.0,"z":3.0}}', { name: 'Stick', type: 'Vector2', data: { x: 1, y: 2 } }],
  ['{"m_Name":"Pos","m_DataTypeName":"Vector3","m_Data":{"x":1.0,"y":2.5,"z":-3.0}}', { name: 'Pos', type: 'Vector3', data: { x: 1, y: 2.5, z: -3 } }],
  ['{"m_Name":"V4","m_DataTypeName":"Vector4","m_Data":{"x":0.0,"y":0.0,"z":1e-7,"w":1.0}}', { name: 'V4', type: 'Vector4', data: { x: 0, y: 0, z: 1e-7, w: 1 } }],
  ['{"m_Name":"Rot","m_DataTypeName":"Quaternion","m_Data":{"w":1.0,"z":0.0,"y":0.0,"x":0.0}}', { name: 'Rot', type: 'Quaternion', data: { x: 0, y: 0, z: 0, w: 1 } }],
  ['{"m_Name":"Picked","m_DataTypeName":"GameObject","m_Data":{"instanceID":-12345}}', { name: 'Picked', type: 'GameObject', data: { instanceID: -12345 } }],
  ['{"m_Name":"Custom","m_DataTypeName":"MyType","m_Data":{"anything":[1,"2",{}]}}', { name: 'Custom', type: 'MyType', data: { anything: [1, '2', {}] }, unknownType: true }],
  ['{"m_Name":"Custom/Bare","m_DataTypeName":"MyType"}', { name: 'Custom/Bare', type: 'MyType', unknownType: true }],
];

/** Frames that are not usable events, and the problem each must give; the connection goes on. */
const BAD_BODIES: Array<[string, ErrorCode]> = [
  ['not json', 'ERR_INVALID_JSON'],
  ['{"m_Name":"cut', 'ERR_INVALID_JSON'],
  ['', 'ERR_INVALID_JSON'],
  ['[1,2,3]', 'ERR_MINVR_EVENT'],
  ['"just a string"', 'ERR_MINVR_EVENT'],
  ['{"m_DataTypeName":"Single","m_Data":1}', 'ERR_MINVR_EVENT'],
  ['{"m_Name":"Half","m_DataTypeName":"Int32","m_Data":1.5}', 'ERR_MINVR_EVENT'],
  ['{"m_Name":"NoData","m_DataTypeName":"Vector3"}', 'ERR_MINVR_EVENT'],
  ['{"m_Name":"Short","m_DataTypeName":"Quaternion","m_Data":{"x":0,"y":0,"z":0}}', 'ERR_MINVR_EVENT'],
];

/** Events send() must refuse (ERR_MINVR_EVENT) without sending anything. */
const INVALID: unknown[] = [
  { name: 'Half', type: 'Int32', data: 1.5 },
  { name: 'Big', type: 'Int32', data: 2147483648 },
  { name: 'NaN', type: 'Single', data: NaN },
  { name: 'Flat', type: 'Vector3', data: { x: 1, y: 2 } },
  { name: 'Extra', type: 'Vector2', data: { x: 1, y: 2, z: 3 } },
  { name: 'Text', type: 'String', data: 5 },
  { name: 'Picked', type: 'GameObject', data: { instanceID: 1 } },
  { name: 42, type: '' },
  { name: 'NoType' },
  { name: 'Custom', type: 'MyType', data: { bad: Infinity }, unknownType: true },
];

// ---------------------------------------------------------------------------------------------
// Peers written by hand
// ---------------------------------------------------------------------------------------------

/** A peer written by hand, either transport: it sends bodies as given and records what arrives. */
interface HandPeer {
  /** One TCP frame (length header + the body's UTF-8 bytes), or one WebSocket text message. */
  sendBody(body: string): void;
  /** Every frame body or message received, parsed as JSON. */
  readonly received: unknown[];
  /** Resolves once the connection is gone. */
  readonly closed: Promise<unknown>;
  readonly isClosed: boolean;
  close(): Promise<void>;
}

/**
 * A bare `net` socket speaking MinVR3's TCP JSON framing, written here from the wire format:
 * frames are built with writeUInt32LE and split with readUInt32LE, nothing from the engine.
 */
class TcpPeer extends EventEmitter implements HandPeer {
  /** Every frame body received, as text (latin1: byte for byte). */
  readonly bodies: string[] = [];
  readonly received: unknown[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  private readonly chunks: Buffer[] = [];
  private pending: Buffer = Buffer.alloc(0);

  /** With `read: false` the peer never reads what it is sent (a peer that stopped reading). */
  constructor(
    readonly socket: net.Socket,
    options: { read?: boolean } = {},
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    if (options.read !== false) socket.on('data', (chunk: Buffer) => this.take(chunk));
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  static async connect(port: number, options: { read?: boolean } = {}): Promise<TcpPeer> {
    const socket = net.connect(port, '127.0.0.1');
    const peer = new TcpPeer(socket, options);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      }),
      `connecting a raw TCP peer to port ${port}`,
    );
    return peer;
  }

  /** Every byte received so far, in order. */
  wire(): Buffer {
    return Buffer.concat(this.chunks);
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  sendBody(body: string | Buffer): void {
    this.socket.write(frame(body));
  }

  /** Writes `bytes` in slices of `size`, letting the event loop turn (or `pauseMs` pass) between slices. */
  async writeInSlices(bytes: Buffer, size: number, pauseMs = 0): Promise<void> {
    for (let offset = 0; offset < bytes.length; offset += size) {
      await this.write(bytes.subarray(offset, offset + size));
      if (pauseMs > 0) await delay(pauseMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private take(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32LE(0);
      if (this.pending.length < 4 + length) break;
      const body = this.pending.subarray(4, 4 + length).toString('latin1');
      this.pending = this.pending.subarray(4 + length);
      this.bodies.push(body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { unparsable: body };
      }
      this.received.push(parsed);
      this.emit('frame', parsed);
    }
  }
}

/** A TCP server on 127.0.0.1 whose connections are TcpPeers; `script` runs on each new one. */
class TcpHandServer {
  readonly peers: TcpPeer[] = [];

  private constructor(private readonly server: net.Server) {}

  static async start(port = 0, script?: (peer: TcpPeer, index: number, server: TcpHandServer) => void, options: { read?: boolean } = {}): Promise<TcpHandServer> {
    const server = net.createServer();
    const hand = new TcpHandServer(server);
    server.on('connection', (socket) => {
      const peer = new TcpPeer(socket, options);
      hand.peers.push(peer);
      if (script) script(peer, hand.peers.length - 1, hand);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return hand;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connections(): number {
    return this.peers.length;
  }

  async peer(index: number, timeoutMs = WAIT_MS): Promise<TcpPeer> {
    await until(
      () => this.peers.length > index,
      () => `connection #${index + 1} to the raw TCP server (got ${this.peers.length})`,
      timeoutMs,
    );
    return this.peers[index];
  }

  close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A `ws` socket (from RawClient or RawServer) as a HandPeer: one text message per body. */
class WsPeer implements HandPeer {
  private gone = false;
  readonly closed: Promise<unknown>;

  constructor(readonly log: FrameLog) {
    this.closed = log.closed.then((close) => {
      this.gone = true;
      return close;
    });
  }

  get received(): unknown[] {
    return this.log.frames;
  }

  get isClosed(): boolean {
    return this.gone;
  }

  sendBody(body: string): void {
    this.log.ws.send(body, { binary: false });
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** A hand-written server of either transport. */
interface HandServer {
  readonly port: number;
  readonly connections: number;
  peer(index: number): Promise<HandPeer>;
  close(): Promise<void>;
}

async function waitForReceived(peer: HandPeer, count: number, what: string, timeoutMs = WAIT_MS): Promise<unknown[]> {
  await until(
    () => peer.received.length >= count,
    () => `${count} ${what} (got ${peer.received.length})`,
    timeoutMs,
  );
  return peer.received;
}

describe('MinVR3 transports over real sockets', function () {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  for (const transport of MINVR_TRANSPORTS) {
    const tcp = transport === 'tcp';

    describe(tcp ? 'TCP JSON connection (length-prefixed frames)' : 'WebSocket variant (one text message per event)', function () {
      function wsUrl(port: number, path = '/vrevent'): string {
        return `ws://127.0.0.1:${port}${path}`;
      }

      /** A server of this transport, listening on a free port (or `options.port`). */
      async function newServer(options: MinVRServerOptions = {}): Promise<MinVRServer> {
        const server = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port: 0, ...FAST_RETRY, ...options }));
        await within(server.listen(), 'server.listen()');
        return server;
      }

      function newClient(port: number, options: MinVRClientOptions = {}): MinVRClient {
        return resources.add(new MinVRClient({ transport, host: '127.0.0.1', port, ...FAST_RETRY, ...options }));
      }

      /** Our server and our client, connected; `info` is the client as the server knows it. */
      async function pair(serverOptions: MinVRServerOptions = {}, clientOptions: MinVRClientOptions = {}): Promise<{ server: MinVRServer; client: MinVRClient; info: MinVRPeerInfo }> {
        const server = await newServer(serverOptions);
        const connected = next(server, 'connect');
        const client = newClient(server.port, clientOptions);
        await within(client.connect(), 'client.connect()');
        const [info] = await connected;
        return { server, client, info };
      }

      /** A hand-written peer connected to `server`, and how the server knows it. */
      async function handClient(server: MinVRServer): Promise<{ peer: HandPeer; info: MinVRPeerInfo }> {
        const connected = next(server, 'connect');
        const peer: HandPeer = tcp ? resources.add(await TcpPeer.connect(server.port)) : resources.add(new WsPeer(await RawClient.connect(wsUrl(server.port))));
        const [info] = await connected;
        return { peer, info };
      }

      async function handServer(port = 0): Promise<HandServer> {
        if (tcp) return resources.add(await TcpHandServer.start(port));
        const raw = resources.add(await RawServer.start(port));
        return {
          get port() {
            return raw.port;
          },
          get connections() {
            return raw.connections.length;
          },
          peer: async (index: number) => new WsPeer(await raw.connection(index)),
          close: () => raw.close(),
        };
      }

      /** Our client connected to a hand-written server. */
      async function clientOfHand(options: MinVRClientOptions = {}): Promise<{ hand: HandServer; client: MinVRClient; peer: HandPeer }> {
        const hand = await handServer();
        const client = newClient(hand.port, options);
        await within(client.connect(), 'client.connect()');
        const peer = await hand.peer(0);
        return { hand, client, peer };
      }

      describe('round trips', function () {
        it('our client and our server: every data type, both ways, in order', async function () {
          const { server, client, info } = await pair();
          const received = await sendAll(client, server, SENDABLE);
          assert.deepEqual(
            received.map(([event]) => event),
            SENDABLE,
          );
          for (const [, from] of received) assert.deepEqual(from, info);

          const back = await sendAll(server, client, SENDABLE);
          assert.deepEqual(
            back.map(([event]) => event),
            SENDABLE,
          );
          for (const [, from] of back) assert.deepEqual(from, { id: 'server', name: `127.0.0.1:${server.port}` });

          const n = SENDABLE.length;
          assert.deepEqual(client.stats, { eventsReceived: n, eventsSent: n, eventsUnsent: 0 });
          assert.deepEqual(server.stats, { eventsReceived: n, eventsSent: n, eventsUnsent: 0 });
        });

        it('unknown types are kept with unknownType: true and their raw data, both ways', async function () {
          const { server, client } = await pair();
          assert.deepEqual(
            (await sendAll(client, server, UNKNOWN)).map(([event]) => event),
            UNKNOWN,
          );
          const back = (await sendAll(server, client, UNKNOWN)).map(([event]) => event);
          assert.deepEqual(back, UNKNOWN);
          assert.ok(!('data' in back[2]), 'an unknown event without m_Data has no data');
        });

        it('events as MinVR3 apps write them (any key order, m_Data absent or null, 1.0, a trailing newline, GameObject, unknown types) reach our server from a hand-written peer', async function () {
          const server = await newServer();
          const { peer, info } = await handClient(server);
          const got = collect(server, 'event', AS_WRITTEN.length);
          for (const [json] of AS_WRITTEN) peer.sendBody(json);
          const events = await got;
          assert.deepEqual(
            events.map(([event]) => event),
            AS_WRITTEN.map(([, event]) => event),
          );
          for (const [, from] of events) assert.deepEqual(from, info);
          // A GameObject refers to an object of the app that sent it: it cannot be sent on.
          const picked = events.find(([event]) => event.type === 'GameObject')![0];
          assert.throws(
            () => server.send(picked),
            (error: unknown) => codeOf(error) === 'ERR_MINVR_EVENT',
          );
        });

        it('the same events reach our client from a hand-written server', async function () {
          const { client, peer } = await clientOfHand();
          const got = collect(client, 'event', AS_WRITTEN.length);
          for (const [json] of AS_WRITTEN) peer.sendBody(json);
          const events = await got;
          assert.deepEqual(
            events.map(([event]) => event),
            AS_WRITTEN.map(([, event]) => event),
          );
          for (const [, from] of events) assert.equal(from.id, 'server');
        });

        it('our server and our client write VREvent JSON as MinVR3 reads it (m_Data left out without data)', async function () {
          const all = [...SENDABLE, ...UNKNOWN];
          const server = await newServer();
          const { peer } = await handClient(server);
          for (const event of all) assert.equal(server.send(event), 1);
          assert.deepEqual(await waitForReceived(peer, all.length, 'events at the hand-written client'), all.map(wireObject));

          const { client, peer: far } = await clientOfHand();
          for (const event of all) assert.equal(client.send(event), 1);
          assert.deepEqual(await waitForReceived(far, all.length, 'events at the hand-written server'), all.map(wireObject));
          if (far instanceof TcpPeer) assert.equal(far.bodies[0], '{"m_Name":"MinVR3/Shutdown","m_DataTypeName":""}');
        });

        it('non-ASCII and emoji strings round trip, also sent as raw UTF-8 by a hand-written peer', async function () {
          const { server, client } = await pair();
          for (const [from, to] of [
            [client, server],
            [server, client],
          ]) {
            assert.deepEqual(
              (await sendAll(from, to, UNICODE)).map(([event]) => event),
              UNICODE,
            );
          }

          // Not escaped: UTF-8 bytes, the TCP length header counting bytes (not characters).
          const { peer } = await handClient(server);
          const raw = next(server, 'event');
          peer.sendBody('{"m_Name":"utf8/ü","m_DataTypeName":"String","m_Data":"Grüße 日本 🎉"}');
          assert.deepEqual((await raw)[0], { name: 'utf8/ü', type: 'String', data: 'Grüße 日本 🎉' });
        });

        if (tcp) {
          it("puts ASCII only on the wire, each length header equal to its body's byte count (both roles)", async function () {
            const check = (bytes: Buffer, events: VREvent[]): void => {
              let offset = 0;
              const bodies: string[] = [];
              for (const event of events) {
                const length = bytes.readUInt32LE(offset);
                const body = bytes.subarray(offset + 4, offset + 4 + length);
                assert.equal(body.length, length, 'the length header counts the bytes that follow');
                const offender = body.findIndex((byte) => byte >= 0x80);
                assert.equal(offender, -1, `byte ${offender} of the body of ${JSON.stringify(event.name)} is not ASCII`);
                const text = body.toString('latin1');
                assert.equal(text.length, length, 'one byte per character');
                assert.deepEqual(JSON.parse(text), wireObject(event));
                bodies.push(text);
                offset += 4 + length;
              }
              assert.equal(offset, bytes.length, 'nothing but the frames');
              assert.ok(bodies[0].includes('\\ud83c\\udf89'), 'an emoji is sent as two \\u escapes (a surrogate pair)');
              assert.ok(bodies[0].includes('Gr\\u00fc\\u00dfe'), 'ü and ß are sent as \\u escapes');
              assert.ok(bodies[0].includes('\\ud800'), 'a lone surrogate is sent as a \\u escape');
            };

            const { client, peer } = await clientOfHand();
            for (const event of UNICODE) client.send(event);
            await waitForReceived(peer, UNICODE.length, 'frames at the hand-written server');
            check((peer as TcpPeer).wire(), UNICODE);

            const server = await newServer();
            const { peer: near } = await handClient(server);
            for (const event of UNICODE) server.send(event);
            await waitForReceived(near, UNICODE.length, 'frames at the hand-written client');
            check((near as TcpPeer).wire(), UNICODE);
          });
        } else {
          it('sends text messages that are ASCII only (both roles)', async function () {
            const server = await newServer();
            const { peer } = await handClient(server);
            const { client, peer: far } = await clientOfHand();
            const messages: Array<{ data: Buffer; isBinary: boolean }> = [];
            for (const hand of [peer, far] as WsPeer[]) hand.log.ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
            for (const event of UNICODE) {
              server.send(event);
              client.send(event);
            }
            await until(() => messages.length === 2 * UNICODE.length, 'every message');
            for (const { data, isBinary } of messages) {
              assert.equal(isBinary, false);
              assert.equal(
                data.findIndex((byte) => byte >= 0x80),
                -1,
                'ASCII only',
              );
            }
            assert.deepEqual(peer.received, UNICODE.map(wireObject));
            assert.deepEqual(far.received, UNICODE.map(wireObject));
          });
        }
      });

      if (tcp) {
        describe('stream reassembly', function () {
          const json = '{"m_Name":"Head/Position","m_DataTypeName":"Vector3","m_Data":{"x":1.5,"y":-2.0,"z":3.25}}';
          const expected: VREvent = { name: 'Head/Position', type: 'Vector3', data: { x: 1.5, y: -2, z: 3.25 } };
          const burst = (count: number): Buffer => Buffer.concat(Array.from({ length: count }, (_, i) => frame(intJson(`seq/${i}`, i))));
          const inOrder = (events: Array<Args<'event'>>, count: number): void => {
            assert.equal(events.length, count);
            events.forEach(([event], i) => assert.deepEqual(event, { name: `seq/${i}`, type: 'Int32', data: i }));
          };

          it('our server: one frame written one byte at a time', async function () {
            const server = await newServer();
            const events = record(server, 'event');
            const { peer } = await handClient(server);
            await (peer as TcpPeer).writeInSlices(frame(json), 1, 2);
            await until(() => events.length > 0, 'the event');
            // A frame after it, to be sure nothing is left over from the slow one.
            (peer as TcpPeer).sendBody(intJson('after', 1));
            await until(() => events.length >= 2, 'the event after it');
            assert.deepEqual(
              events.map(([event]) => event),
              [expected, { name: 'after', type: 'Int32', data: 1 }],
            );
          });

          it('our client: one frame written one byte at a time', async function () {
            const { client, peer } = await clientOfHand();
            const events = record(client, 'event');
            await (peer as TcpPeer).writeInSlices(frame(json), 1, 2);
            await until(() => events.length > 0, 'the event');
            assert.deepEqual(
              events.map(([event]) => event),
              [expected],
            );
          });

          it('our server: 1,000 frames in a single write, then 200 written in 7-byte slices', async function () {
            const server = await newServer();
            const { peer } = await handClient(server);
            const got = collect(server, 'event', 1000, 10000);
            await (peer as TcpPeer).write(burst(1000));
            inOrder(await got, 1000);
            const sliced = collect(server, 'event', 200, 10000);
            await (peer as TcpPeer).writeInSlices(burst(200), 7);
            inOrder(await sliced, 200);
          });

          it('our client: 1,000 frames in a single write, then 200 written in 7-byte slices', async function () {
            const { client, peer } = await clientOfHand();
            const got = collect(client, 'event', 1000, 10000);
            await (peer as TcpPeer).write(burst(1000));
            inOrder(await got, 1000);
            const sliced = collect(client, 'event', 200, 10000);
            await (peer as TcpPeer).writeInSlices(burst(200), 7);
            inOrder(await sliced, 200);
          });

          it('1,000 events sent by our server arrive in order at a hand-written client', async function () {
            const server = await newServer();
            const { peer } = await handClient(server);
            for (let i = 0; i < 1000; i++) server.send({ name: `seq/${i}`, type: 'Int32', data: i });
            const received = await waitForReceived(peer, 1000, 'frames', 10000);
            received.forEach((body, i) => assert.deepEqual(body, { m_Name: `seq/${i}`, m_DataTypeName: 'Int32', m_Data: i }));
          });
        });
      } else {
        describe('bursts', function () {
          it('1,000 messages sent at once arrive in order, both roles', async function () {
            const server = await newServer();
            const { peer } = await handClient(server);
            const got = collect(server, 'event', 1000, 10000);
            for (let i = 0; i < 1000; i++) peer.sendBody(intJson(`seq/${i}`, i));
            (await got).forEach(([event], i) => assert.deepEqual(event, { name: `seq/${i}`, type: 'Int32', data: i }));

            for (let i = 0; i < 1000; i++) server.send({ name: `back/${i}`, type: 'Int32', data: i });
            (await waitForReceived(peer, 1000, 'messages', 10000)).forEach((body, i) => assert.deepEqual(body, { m_Name: `back/${i}`, m_DataTypeName: 'Int32', m_Data: i }));

            const { client, peer: far } = await clientOfHand();
            const atClient = collect(client, 'event', 1000, 10000);
            for (let i = 0; i < 1000; i++) far.sendBody(intJson(`seq/${i}`, i));
            (await atClient).forEach(([event], i) => assert.deepEqual(event, { name: `seq/${i}`, type: 'Int32', data: i }));
          });
        });
      }

      describe('oversize frames', function () {
        it(`our server: a ${tcp ? 'length header' : 'message'} over maxFrame gives ERR_MINVR_FRAME_TOO_LARGE and drops that peer only`, async function () {
          const server = await newServer({ maxFrame: SMALL_FRAME });
          const { peer: keeper, info: keeperInfo } = await handClient(server);
          const { peer: victim, info: victimInfo } = await handClient(server);
          const events = record(server, 'event');
          const problem = next(server, 'problem');
          const gone = next(server, 'disconnect');
          // TCP: a good frame and the oversize header in one write; the good one still counts.
          if (victim instanceof TcpPeer) victim.socket.write(Buffer.concat([frame(intJson('before', 1)), truncatedFrame(SMALL_FRAME + 1, 16)]));
          else victim.sendBody('x'.repeat(SMALL_FRAME + 1));
          const [error, from] = await problem;
          assert.equal(codeOf(error), 'ERR_MINVR_FRAME_TOO_LARGE', error.message);
          assert.match(error.message, new RegExp(`${SMALL_FRAME}`));
          assert.deepEqual(from, victimInfo);
          assert.deepEqual((await gone)[0], victimInfo);
          const closed = await within(victim.closed, 'the oversize peer to be dropped');
          if (!tcp) assert.equal((closed as { code: number }).code, 1009);

          const before = events.length;
          assert.deepEqual(
            events.map(([event, peer]) => [event.name, peer.id]),
            tcp ? [['before', victimInfo.id]] : [],
          );

          // The other peer goes on, and a frame of exactly maxFrame bytes is fine.
          assert.deepEqual(server.clients, [keeperInfo]);
          const json = jsonOfSize(SMALL_FRAME);
          assert.equal(Buffer.byteLength(json), SMALL_FRAME);
          keeper.sendBody(json);
          await until(() => events.length > before, 'the event of the other peer');
          assert.equal(events[before][0].name, 'Sized');
          assert.deepEqual(events[before][1], keeperInfo);
          assert.equal(server.send({ name: 'Still', type: '' }), 1);
          assert.deepEqual((await waitForReceived(keeper, 1, 'an event at the other peer'))[0], { m_Name: 'Still', m_DataTypeName: '' });
          assert.equal(keeper.isClosed, false);
        });

        it('our client: an oversize frame from its server gives ERR_MINVR_FRAME_TOO_LARGE and it reconnects', async function () {
          const { hand, client, peer } = await clientOfHand({ maxFrame: SMALL_FRAME });
          const problem = next(client, 'problem');
          const retrying = next(client, 'status', (status) => status.state === 'reconnecting');
          if (peer instanceof TcpPeer) peer.socket.write(truncatedFrame(SMALL_FRAME + 1, 16));
          else peer.sendBody('x'.repeat(SMALL_FRAME + 1));
          const [error, from] = await problem;
          assert.equal(codeOf(error), 'ERR_MINVR_FRAME_TOO_LARGE', error.message);
          assert.equal(from?.id, 'server');
          assert.equal(codeOf((await retrying)[0].error), 'ERR_MINVR_FRAME_TOO_LARGE');
          const again = await hand.peer(1);
          await until(() => client.connected, 'the client to reconnect');
          const event = next(client, 'event');
          again.sendBody(jsonOfSize(SMALL_FRAME));
          assert.equal((await event)[0].name, 'Sized');
          assert.equal(client.stats.eventsReceived, 1);
        });
      });

      describe('peers killed mid-frame', function () {
        it('our server: a peer that dies in the middle of a frame gives no event, and the server keeps serving others', async function () {
          const server = await newServer();
          const events = record(server, 'event');
          const { peer: keeper, info: keeperInfo } = await handClient(server);
          const connected = next(server, 'connect');
          let socket: net.Socket;
          const json = intJson('never', 1);
          if (tcp) {
            socket = resources.add(await TcpPeer.connect(server.port)).socket;
            await new Promise<void>((resolve) => socket.write(frame(json).subarray(0, 12), () => resolve()));
          } else {
            socket = await rawWebSocket(server.port, '/vrevent');
            resources.add({ close: () => socket.destroy() });
            await new Promise<void>((resolve) => socket.write(wsFrame(0x1, json, { mask: true }).subarray(0, 12), () => resolve()));
          }
          const [victim] = await connected;
          const gone = next(server, 'disconnect');
          socket.destroy();
          assert.deepEqual((await gone)[0], victim);
          assert.deepEqual(server.clients, [keeperInfo]);

          keeper.sendBody(intJson('alive', 2));
          await until(() => events.length > 0, "the other peer's event");
          assert.deepEqual(
            events.map(([event, from]) => [event.name, from.id]),
            [['alive', keeperInfo.id]],
          );
          assert.equal(server.send({ name: 'Still', type: '' }), 1);
          await waitForReceived(keeper, 1, 'an event at the other peer');
          assert.equal(server.status.state, 'listening');
        });

        it('our client: its server dies in the middle of a frame; no event, and it reconnects once a server is back on that port', async function () {
          const json = intJson('never', 1);
          let first: { port: number; close(): Promise<void> };
          const dieMidFrame = (socket: net.Socket, bytes: Buffer): void => {
            socket.write(bytes.subarray(0, 12), () => {
              socket.destroy();
              void first.close();
            });
          };
          if (tcp) first = resources.add(await TcpHandServer.start(0, (peer) => dieMidFrame(peer.socket, frame(json))));
          else first = resources.add(await ScriptedServer.start((socket) => dieMidFrame(socket, wsFrame(0x1, json))));
          const port = first.port;
          const client = newClient(port);
          const events = record(client, 'event');
          const retrying = next(client, 'status', (status) => status.state === 'reconnecting');
          void client.connect();
          await retrying;
          assert.equal(events.length, 0);

          const second = await handServer(port);
          const peer = await second.peer(0);
          await until(() => client.connected, 'the client to reconnect');
          peer.sendBody(intJson('back', 3));
          await until(() => events.length > 0, 'an event from the new server');
          assert.deepEqual(
            events.map(([event]) => event),
            [{ name: 'back', type: 'Int32', data: 3 }],
          );
        });
      });

      if (tcp) {
        describe('incomplete-frame timeout', function () {
          const TIMEOUT = 400;

          it('our server: a peer that stops mid-frame gets ERR_MINVR_FRAME_TIMEOUT and is dropped; one sending complete frames slowly is not', async function () {
            this.timeout(20000);
            const server = await newServer({ frameTimeoutMs: TIMEOUT });
            const problems = record(server, 'problem');
            const events = record(server, 'event');
            const { peer: stalled, info: stalledInfo } = await handClient(server);
            const { peer: steady, info: steadyInfo } = await handClient(server);
            const timedOut = next(server, 'problem', (error) => error.code === 'ERR_MINVR_FRAME_TIMEOUT', WAIT_MS);
            await (stalled as TcpPeer).write(frame(intJson('stalled', 0)).subarray(0, 9));

            // Each frame in two parts a moment apart, and more than the timeout of silence between
            // frames; the cut is at different places: inside the header, right after it, in the body.
            const cuts = [2, 4, 10, 30];
            for (let i = 0; i < cuts.length; i++) {
              const bytes = frame(intJson(`steady/${i}`, i));
              await (steady as TcpPeer).write(bytes.subarray(0, cuts[i]));
              await delay(10);
              await (steady as TcpPeer).write(bytes.subarray(cuts[i]));
              await delay(TIMEOUT + 100);
            }
            // Then always in the middle of some frame, for longer than the timeout, but each frame
            // completed a quarter of the timeout after it started: each write ends one and starts the next.
            const chain = Buffer.concat(Array.from({ length: 6 }, (_, i) => frame(intJson(`chain/${i}`, i))));
            const step = Math.ceil(chain.length / 7);
            for (let offset = 0; offset < chain.length; offset += step) {
              await (steady as TcpPeer).write(chain.subarray(offset, offset + step));
              if (offset + step < chain.length) await delay(TIMEOUT / 4);
            }

            const [error, from] = await timedOut;
            assert.match(error.message, /part of a frame/);
            assert.deepEqual(from, stalledInfo);
            await within(stalled.closed, 'the stalled peer to be dropped');
            const names = [...cuts.map((_, i) => `steady/${i}`), ...Array.from({ length: 6 }, (_, i) => `chain/${i}`)];
            await until(() => events.length >= names.length, 'every frame of the steady peer');
            assert.deepEqual(
              events.map(([event, peer]) => [event.name, peer.id]),
              names.map((name) => [name, steadyInfo.id]),
            );
            assert.equal(steady.isClosed, false);
            assert.deepEqual(server.clients, [steadyInfo]);
            assert.deepEqual(
              problems.map(([problem]) => problem.code),
              ['ERR_MINVR_FRAME_TIMEOUT'],
            );
          });

          it('our client: a server that stops mid-frame gets ERR_MINVR_FRAME_TIMEOUT, and the client reconnects', async function () {
            const hand = resources.add(
              await TcpHandServer.start(0, (peer, index) => {
                if (index === 0) peer.socket.write(frame(intJson('stalled', 0)).subarray(0, 9));
                else peer.sendBody(intJson('whole', 1));
              }),
            );
            const client = newClient(hand.port, { frameTimeoutMs: TIMEOUT });
            const problem = next(client, 'problem');
            const event = next(client, 'event');
            void client.connect();
            const [error] = await problem;
            assert.equal(error.code, 'ERR_MINVR_FRAME_TIMEOUT', error.message);
            assert.deepEqual((await event)[0], { name: 'whole', type: 'Int32', data: 1 });
            assert.equal(hand.connections, 2);
          });
        });
      }

      describe('bad frames', function () {
        const bad: Array<[string | Buffer, ErrorCode]> = tcp ? [...BAD_BODIES, [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'ERR_INVALID_UTF8']] : BAD_BODIES;
        const send = (peer: HandPeer, body: string | Buffer): void => (peer instanceof TcpPeer ? peer.sendBody(body) : peer.sendBody(body as string));

        /**
         * The hand-written peer sends every bad frame, each followed by a good one; resolves, once
         * the good ones have arrived too, with the problems `endpoint` reported (their codes checked).
         */
        async function badThenGood(endpoint: MinVREndpoint, peer: HandPeer): Promise<Array<Args<'problem'>>> {
          const problems = collect(endpoint, 'problem', bad.length);
          const events = record(endpoint, 'event');
          for (const [body] of bad) {
            send(peer, body);
            send(peer, intJson('good', 1));
          }
          const seen = await problems;
          assert.deepEqual(
            seen.map(([error]) => error.code),
            bad.map(([, code]) => code),
          );
          await until(() => events.length >= bad.length, 'the good frames');
          assert.equal(events.length, bad.length);
          return seen;
        }

        it('our server: each bad frame is a problem (ERR_INVALID_JSON / ERR_MINVR_EVENT) and the next frame still decodes', async function () {
          const server = await newServer();
          const { peer, info } = await handClient(server);
          for (const [error, from] of await badThenGood(server, peer)) {
            assert.ok(error.message.length > 0);
            assert.deepEqual(from, info);
          }
          assert.equal(peer.isClosed, false);
          assert.deepEqual(server.clients, [info]);
          assert.equal(server.send({ name: 'Still', type: '' }), 1);
          await waitForReceived(peer, 1, 'an event after the bad frames');
        });

        it('our client: each bad frame from its server is a problem and the connection goes on', async function () {
          const { client, peer } = await clientOfHand();
          const statuses = record(client, 'status');
          for (const [, from] of await badThenGood(client, peer)) assert.equal(from?.id, 'server');
          assert.equal(client.status.state, 'connected');
          assert.deepEqual(statuses, [], 'no status change: the connection went on');
        });
      });

      describe('sending', function () {
        it('a server sends to every connected peer and never relays between them', async function () {
          const server = await newServer();
          const received = record(server, 'event');
          const aConnected = next(server, 'connect');
          const a = newClient(server.port);
          await a.connect();
          const [aInfo] = await aConnected;
          const { peer: b, info: bInfo } = await handClient(server);
          const cConnected = next(server, 'connect');
          const c = newClient(server.port);
          await c.connect();
          await cConnected;
          const atA = record(a, 'event');
          const atC = record(c, 'event');

          a.send({ name: 'FromA', type: 'Int32', data: 1 });
          b.sendBody(intJson('FromB', 2));
          await until(() => received.length === 2, 'both events at the server');
          const byName = new Map(received.map(([event, from]) => [event.name, from]));
          assert.deepEqual(byName.get('FromA'), aInfo);
          assert.deepEqual(byName.get('FromB'), bInfo);

          // A marker sent after them: had anything been relayed, it would have arrived first.
          assert.equal(server.send({ name: 'Marker', type: '' }), 3);
          await until(() => atA.length > 0 && atC.length > 0 && b.received.length > 0, 'the marker at every peer');
          assert.deepEqual(
            atA.map(([event]) => event.name),
            ['Marker'],
          );
          assert.deepEqual(
            atC.map(([event]) => event.name),
            ['Marker'],
          );
          assert.deepEqual(b.received, [{ m_Name: 'Marker', m_DataTypeName: '' }]);
          assert.deepEqual(server.stats, { eventsReceived: 2, eventsSent: 3, eventsUnsent: 0 });
        });

        it('send() with no peer returns 0 and counts eventsUnsent (server and client)', async function () {
          const server = await newServer();
          assert.equal(server.send({ name: 'Nobody', type: '' }), 0);
          assert.equal(server.send({ name: 'Nobody', type: 'Int32', data: 2 }), 0);
          assert.deepEqual(server.stats, { eventsReceived: 0, eventsSent: 0, eventsUnsent: 2 });

          const client = newClient(server.port);
          assert.equal(client.send({ name: 'Early', type: '' }), 0);
          assert.deepEqual(client.stats, { eventsReceived: 0, eventsSent: 0, eventsUnsent: 1 });
          const got = next(server, 'event');
          await client.connect();
          assert.equal(client.send({ name: 'Late', type: '' }), 1);
          assert.equal((await got)[0].name, 'Late', 'an event sent with no peer is not queued');
          assert.deepEqual(client.stats, { eventsReceived: 0, eventsSent: 1, eventsUnsent: 1 });

          const gone = next(server, 'disconnect');
          await client.close();
          await gone;
          assert.equal(client.send({ name: 'Closed', type: '' }), 0);
          assert.equal(server.send({ name: 'Nobody', type: '' }), 0);
          assert.deepEqual(client.stats, { eventsReceived: 0, eventsSent: 1, eventsUnsent: 2 });
          assert.deepEqual(server.stats, { eventsReceived: 1, eventsSent: 0, eventsUnsent: 3 });
        });

        it('send() of an invalid event throws ERR_MINVR_EVENT and sends nothing (server and client)', async function () {
          const refuse = (endpoint: MinVREndpoint): void => {
            const before = endpoint.stats;
            for (const event of INVALID) {
              assert.throws(
                () => endpoint.send(event as VREvent),
                (error: unknown) => codeOf(error) === 'ERR_MINVR_EVENT' && (error as Error).message.length > 0,
                JSON.stringify(event),
              );
            }
            assert.deepEqual(endpoint.stats, before, 'nothing counted as sent or unsent');
          };
          const server = await newServer();
          refuse(server); // also with no peer
          const { peer } = await handClient(server);
          refuse(server);
          assert.equal(server.send({ name: 'Marker', type: '' }), 1);
          assert.deepEqual(await waitForReceived(peer, 1, 'the marker'), [{ m_Name: 'Marker', m_DataTypeName: '' }]);

          const { client, peer: far } = await clientOfHand();
          refuse(client);
          assert.equal(client.send({ name: 'Marker', type: '' }), 1);
          assert.deepEqual(await waitForReceived(far, 1, 'the marker'), [{ m_Name: 'Marker', m_DataTypeName: '' }]);
          assert.equal(client.status.state, 'connected');
        });
      });

      describe('reconnecting and status', function () {
        it('a client started before its server retries (reconnecting) and connects once the server listens', async function () {
          const port = await freePort();
          const client = newClient(port);
          const statuses = record(client, 'status');
          const retrying = next(client, 'status', (status) => status.state === 'reconnecting');
          const connected = client.connect();
          const [status] = await retrying;
          assert.match(String(status.error?.message), /ECONNREFUSED/);
          assert.equal(typeof status.retryInMs, 'number');
          assert.equal(status.clients, 0);
          assert.equal(client.connected, false);

          const server = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port }));
          await within(server.listen(), 'server.listen()');
          await within(connected, 'client.connect() once the server is up');
          assert.deepEqual(
            statuses.map(([s]) => statusLine(s)),
            ['connecting:0', 'reconnecting:0', 'connected:1'],
          );
          assert.equal(client.status.peerName, `127.0.0.1:${port}`);
          await until(() => server.clients.length === 1, 'the server to see the client');
          const got = next(server, 'event');
          client.send({ name: 'Hello', type: '' });
          assert.equal((await got)[0].name, 'Hello');
        });

        it('a client reconnects after its server restarts on the same port, and events flow again both ways', async function () {
          const { server: first, client } = await pair();
          const port = first.port;
          const down = next(client, 'status', (status) => status.state === 'reconnecting');
          await within(first.close(), 'the first server to close');
          const [status] = await down;
          assert.equal(status.clients, 0);
          assert.equal(client.connected, false);

          const second = await newServer({ port });
          const up = next(second, 'connect');
          await until(() => client.connected, 'the client to reconnect');
          await up;
          const atServer = next(second, 'event');
          client.send({ name: 'Again', type: 'Int32', data: 2 });
          assert.deepEqual((await atServer)[0], { name: 'Again', type: 'Int32', data: 2 });
          const atClient = next(client, 'event');
          assert.equal(second.send({ name: 'Back', type: '' }), 1);
          assert.deepEqual((await atClient)[0], { name: 'Back', type: '' });
        });

        it('with autoReconnect false: connect() rejects when nothing listens, and a lost connection ends in failed', async function () {
          const port = await freePort();
          const lonely = newClient(port, { autoReconnect: false });
          const error = await within(rejectionOf(lonely.connect(), 'connect()'), 'connect() to reject');
          assert.equal(error.code, 'ERR_GAVE_UP');
          assert.match(error.message, /ECONNREFUSED/);
          assert.equal(lonely.status.state, 'failed');

          const { server, client } = await pair({}, { autoReconnect: false });
          const statuses = record(client, 'status');
          const failed = next(client, 'status', (status) => status.state === 'failed');
          await server.close();
          const [status] = await failed;
          assert.equal(codeOf(status.error), 'ERR_GAVE_UP');
          assert.equal(status.clients, 0);
          assert.ok(!statuses.some(([s]) => s.state === 'reconnecting'), 'no reconnect');
        });

        it('close() resolves and stops retries, whether retrying or connected', async function () {
          const port = await freePort();
          const retrier = newClient(port);
          const retrying = next(retrier, 'status', (status) => status.state === 'reconnecting');
          const pending = retrier.connect();
          await retrying;
          await within(retrier.close(), 'close() while retrying');
          assert.equal(retrier.status.state, 'closed');
          assert.equal(codeOf(await rejectionOf(pending, 'the pending connect()')), 'ERR_CLOSED');
          assert.equal(codeOf(await rejectionOf(retrier.connect(), 'connect() after close()')), 'ERR_CLOSED');
          // A server on that port now: the closed client must not come (20 retry intervals and more).
          const hand = await handServer(port);
          await delay(20 * FAST_RETRY.reconnectIntervalMs);
          assert.equal(hand.connections, 0, 'a closed client does not retry');

          const { server, client } = await pair();
          const statuses = record(client, 'status');
          const gone = next(server, 'disconnect');
          await within(client.close(), 'close() while connected');
          assert.equal(client.close(), client.close(), 'close() twice gives the same promise');
          await gone;
          assert.deepEqual(
            statuses.map(([s]) => statusLine(s)),
            ['closed:0'],
          );
          await until(() => server.clients.length === 0, 'the server to drop the client');
          await delay(10 * FAST_RETRY.reconnectIntervalMs);
          assert.equal(server.clients.length, 0, 'a closed client does not reconnect');
        });

        it('status events: connecting, connected (1 client); listening with the number of clients', async function () {
          const server = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port: 0 }));
          const serverStatuses = record(server, 'status');
          await server.listen();
          assert.ok(server.port > 0, 'port 0 picks a free port');
          assert.equal(server.url, tcp ? `tcp://127.0.0.1:${server.port}` : `ws://127.0.0.1:${server.port}/vrevent`);

          const a = newClient(server.port);
          assert.equal(a.url, server.url);
          const aStatuses = record(a, 'status');
          await a.connect();
          await until(() => server.status.clients === 1, 'one client at the server');
          const b = newClient(server.port);
          await b.connect();
          await until(() => server.status.clients === 2, 'two clients at the server');
          await a.close();
          await until(() => server.status.clients === 1, 'one client left');
          assert.deepEqual(
            serverStatuses.map(([s]) => statusLine(s)),
            ['connecting:0', 'listening:0', 'listening:1', 'listening:2', 'listening:1'],
          );
          assert.deepEqual(
            aStatuses.map(([s]) => statusLine(s)),
            ['connecting:0', 'connected:1', 'closed:0'],
          );
          assert.equal(aStatuses[1][0].peerName, `127.0.0.1:${server.port}`);
          assert.equal(server.clients.length, 1);
          assert.equal(server.clients[0].id, 'peer-2');
          assert.match(server.clients[0].name, /^127\.0\.0\.1:\d+$/);

          const bDown = next(b, 'status', (status) => status.state === 'reconnecting');
          await within(server.close(), 'server.close()');
          assert.equal(statusLine(server.status), 'closed:0');
          assert.equal(statusLine(serverStatuses[serverStatuses.length - 1][0]), 'closed:0');
          await bDown;
        });
      });

      describe('listening', function () {
        it('a second server on a busy port retries (reconnecting, ERR_LISTEN) and binds once the first closes', async function () {
          const first = await newServer();
          const port = first.port;
          const second = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port, ...FAST_RETRY }));
          const retrying = next(second, 'status', (status) => status.state === 'reconnecting');
          const listening = second.listen();
          const [status] = await retrying;
          assert.equal(codeOf(status.error), 'ERR_LISTEN');
          assert.match(String(status.error?.message), /EADDRINUSE/);
          assert.equal(typeof status.retryInMs, 'number');
          assert.equal(second.listening, false);

          await first.close();
          await within(listening, 'the second server to listen');
          assert.equal(second.port, port);
          const client = newClient(port);
          await client.connect();
          await until(() => second.clients.length === 1, 'the client at the second server');
          const got = next(second, 'event');
          client.send({ name: 'Second', type: '' });
          assert.equal((await got)[0].name, 'Second');
        });

        it('with autoReconnect false, listen() on a busy port rejects', async function () {
          const first = await newServer();
          const second = resources.add(new MinVRServer({ transport, host: '127.0.0.1', port: first.port, autoReconnect: false }));
          const error = await within(rejectionOf(second.listen(), 'listen()'), 'listen() to reject');
          assert.equal(error.code, 'ERR_GAVE_UP');
          assert.equal(codeOf((error as { cause?: unknown }).cause), 'ERR_LISTEN');
          assert.match(error.message, /EADDRINUSE/);
          assert.equal(second.status.state, 'failed');
          assert.equal(first.listening, true);
        });
      });

      if (!tcp) {
        describe('WebSocket specifics', function () {
          it('a client on the wrong path cannot connect (HTTP 404)', async function () {
            const server = await newServer();
            const wrong = newClient(server.port, { path: '/elsewhere', autoReconnect: false });
            const error = await within(rejectionOf(wrong.connect(), 'connect()'), 'connect() to reject');
            assert.match(error.message, /404/);
            assert.equal(wrong.status.state, 'failed');

            const retrying = newClient(server.port, { path: '/elsewhere' });
            const status = next(retrying, 'status', (s) => s.state === 'reconnecting');
            void retrying.connect();
            assert.match(String((await status)[0].error?.message), /404/);
            assert.equal(server.clients.length, 0);

            assert.equal((await upgradeAnswer(server.port, '/elsewhere')).status, 404);
            assert.equal((await upgradeAnswer(server.port, '/vrevent')).status, 101);
            // A path given without its slash is the same path.
            const right = newClient(server.port, { path: 'vrevent' });
            await within(right.connect(), 'connect() on "vrevent"');
          });

          it('a server with an empty path accepts any path', async function () {
            const server = await newServer({ path: '' });
            const client = newClient(server.port, { path: '/any/where' });
            await within(client.connect(), 'connect() on any path');
            assert.equal((await upgradeAnswer(server.port, '/other?x=1')).status, 101);
          });

          it('a binary message gives ERR_BINARY_FRAME and the connection goes on (both roles)', async function () {
            const server = await newServer();
            const { peer, info } = await handClient(server);
            const problem = next(server, 'problem');
            const event = next(server, 'event');
            (peer as WsPeer).log.ws.send(Buffer.from(intJson('binary', 1)), { binary: true });
            peer.sendBody(intJson('text', 2));
            const [error, from] = await problem;
            assert.equal(error.code, 'ERR_BINARY_FRAME');
            assert.deepEqual(from, info);
            assert.deepEqual((await event)[0], { name: 'text', type: 'Int32', data: 2 });
            assert.equal(peer.isClosed, false);

            const { client, peer: far } = await clientOfHand();
            const clientProblem = next(client, 'problem');
            const clientEvent = next(client, 'event');
            (far as WsPeer).log.ws.send(Buffer.from(intJson('binary', 1)), { binary: true });
            far.sendBody(intJson('text', 2));
            assert.equal((await clientProblem)[0].code, 'ERR_BINARY_FRAME');
            assert.deepEqual((await clientEvent)[0], { name: 'text', type: 'Int32', data: 2 });
            assert.equal(client.status.state, 'connected');
          });

          it('a plain HTTP request gets 426', async function () {
            const server = await newServer();
            const answer = await within(
              new Promise<{ status: number; body: string }>((resolve, reject) => {
                http
                  .get({ host: '127.0.0.1', port: server.port, path: '/vrevent', agent: false }, (res) => {
                    let body = '';
                    res.setEncoding('utf8');
                    res.on('data', (chunk: string) => (body += chunk));
                    res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
                  })
                  .on('error', reject);
              }),
              'an answer to a plain GET',
            );
            assert.equal(answer.status, 426);
            assert.match(answer.body, /WebSocket/);
          });
        });
      }

      describe('hostile peers', function () {
        it("an unknown event nested 4,000 and 100,000 deep is one problem (ERR_MINVR_EVENT) each; the peer stays, its next event and the other peer's arrive", async function () {
          const uncaught = catchUncaught();
          try {
            const server = await newServer();
            const { peer: attacker, info: attackerInfo } = await handClient(server);
            const { peer: bystander, info: bystanderInfo } = await handClient(server);
            const events = record(server, 'event');
            const problems = record(server, 'problem');
            const depths = [4000, 100000];
            for (const depth of depths) {
              const body = nestedJson(depth);
              assert.ok(Buffer.byteLength(body) >= 8000);
              attacker.sendBody(body);
              attacker.sendBody(intJson(`after/${depth}`, depth));
              bystander.sendBody(intJson(`bystander/${depth}`, depth));
            }
            await until(() => events.length >= 2 * depths.length, 'the events after the deep ones');
            assert.deepEqual(
              problems.map(([error, from]) => [error.code, from?.id]),
              depths.map(() => ['ERR_MINVR_EVENT', attackerInfo.id]),
            );
            // 4,000 deep: over the depth limit; 100,000 deep: also over the limit of values, refused before parsing.
            assert.match(problems[0][0].message, /nested deeper than 64 levels/);
            assert.match(problems[1][0].message, /more than 100000 JSON values/);
            assert.deepEqual(
              events.filter(([, from]) => from.id === attackerInfo.id).map(([event]) => event.name),
              depths.map((depth) => `after/${depth}`),
            );
            assert.deepEqual(
              events.filter(([, from]) => from.id === bystanderInfo.id).map(([event]) => event.name),
              depths.map((depth) => `bystander/${depth}`),
            );
            assert.equal(attacker.isClosed, false);
            assert.equal(server.clients.length, 2);

            const { client, peer: far } = await clientOfHand();
            const atClient = record(client, 'problem');
            const next100k = next(client, 'event');
            far.sendBody(nestedJson(100000));
            far.sendBody(intJson('after', 1));
            assert.equal((await next100k)[0].name, 'after');
            assert.deepEqual(
              atClient.map(([error]) => error.code),
              ['ERR_MINVR_EVENT'],
            );
            assert.equal(client.status.state, 'connected');
            assert.deepEqual(uncaught.errors, []);
          } finally {
            uncaught.stop();
          }
        });

        it('a 16 MiB event of 5.6 million empty objects is refused before parsing (ERR_MINVR_EVENT); the peer stays', async function () {
          const server = await newServer();
          const { peer, info } = await handClient(server);
          const events = record(server, 'event');
          const problem = next(server, 'problem', undefined, 20000);
          const objects = Math.floor((MINVR_DEFAULTS.maxFrame - 64) / 3);
          peer.sendBody(`{"m_Name":"Wide","m_DataTypeName":"My.List","m_Data":[${'{},'.repeat(objects - 1)}{}]}`);
          peer.sendBody(intJson('after', 1));
          const [error, from] = await problem;
          assert.equal(error.code, 'ERR_MINVR_EVENT');
          assert.match(error.message, /more than 100000 JSON values/);
          assert.deepEqual(from, info);
          await until(() => events.length === 1, 'the next event', 20000);
          assert.equal(events[0][0].name, 'after');
          assert.equal(peer.isClosed, false);
        });

        it('an event listener that throws costs that event only: one problem (ERR_MINVR_EVENT), the socket and the peer stay', async function () {
          const uncaught = catchUncaught();
          try {
            const server = await newServer();
            const { peer, info } = await handClient(server);
            server.on('event', (event) => {
              if (event.name === 'explode') throw new RangeError('Maximum call stack size exceeded');
            });
            const names = record(server, 'event');
            const problem = next(server, 'problem');
            peer.sendBody(intJson('explode', 1));
            peer.sendBody(intJson('next', 2));
            const [error, from] = await problem;
            assert.equal(error.code, 'ERR_MINVR_EVENT');
            assert.match(error.message, /handling MinVR3 event "explode" failed: Maximum call stack/);
            assert.deepEqual(from, info);
            await until(() => names.some(([event]) => event.name === 'next'), 'the next event');
            assert.equal(peer.isClosed, false);
            assert.equal(server.send({ name: 'Still', type: '' }), 1);
            await waitForReceived(peer, 1, 'an event after the listener threw');
            assert.deepEqual(uncaught.errors, []);
          } finally {
            uncaught.stop();
          }
        });

        it('100 peers each sending a partial 16 MiB frame: the default 64 MiB budget holds 4, the others are dropped (ERR_MINVR_BUFFER_FULL); once the 4 go, the budget is free for new peers', async function () {
          this.timeout(120000);
          const FRAME = MINVR_DEFAULTS.maxFrame;
          const LIMIT = MINVR_DEFAULTS.maxPartialBytes;
          const PEERS = 100;
          // No frame timeout and no heartbeat (the raw peers answer no ping): only the budget drops peers here.
          const server = await newServer({ frameTimeoutMs: 0, heartbeatMs: 0 });
          const problems = record(server, 'problem');
          let mostHeld = 0;
          server.on('problem', () => void (mostHeld = Math.max(mostHeld, server.partialBytes)));
          const body = Buffer.from(jsonOfSize(FRAME), 'latin1');
          // A frame's head and all but its last KiB: four of them fit in the budget, a fifth does not.
          const head = tcp ? Buffer.alloc(4) : wsTextHead(FRAME);
          if (tcp) head.writeUInt32LE(FRAME, 0);
          const partial = body.subarray(0, FRAME - 1024);
          const rest = body.subarray(FRAME - 1024);
          const held = (tcp ? 0 : head.length) + partial.length;
          const open = async (): Promise<net.Socket> => {
            const socket = tcp ? net.connect(server.port, '127.0.0.1') : await rawWebSocket(server.port, '/vrevent');
            socket.on('error', () => undefined);
            resources.add({ close: () => socket.destroy() });
            if (tcp) await within(new Promise((resolve) => socket.once('connect', resolve)), 'a raw TCP connection');
            return socket;
          };
          const send = (socket: net.Socket, ...parts: Buffer[]): void => {
            for (const part of parts) socket.write(part);
          };
          gc();
          const before = memoryLine('before');

          const holders: net.Socket[] = [];
          for (let i = 0; i < 4; i++) {
            const socket = await open();
            send(socket, head, partial);
            holders.push(socket);
            await until(
              () => server.partialBytes === (i + 1) * held,
              () => `peer ${i + 1}'s partial frame to be held (${server.partialBytes} bytes held)`,
              20000,
            );
          }
          const others = await Promise.all(Array.from({ length: PEERS - 4 }, () => open()));
          for (const socket of others) send(socket, head, partial);
          await until(
            () => problems.length >= PEERS - 4,
            () => `${PEERS - 4} peers to be dropped (got ${problems.length})`,
            60000,
          );
          const holding = memoryLine(`${PEERS} peers, ${server.clients.length} holding ${mib(server.partialBytes)}`);
          assert.deepEqual(new Set(problems.map(([error]) => error.code)), new Set(['ERR_MINVR_BUFFER_FULL']));
          assert.match(problems[0][0].message, new RegExp(`maxPartialBytes \\(${LIMIT} bytes`));
          assert.equal(new Set(problems.map(([, from]) => from?.id)).size, PEERS - 4);
          await until(() => server.clients.length === 4, 'the dropped peers to be gone');
          assert.equal(server.partialBytes, 4 * held);
          assert.ok(mostHeld <= LIMIT, `held ${mostHeld} bytes, above the budget of ${LIMIT}`);

          for (const socket of holders) socket.destroy();
          await until(() => server.clients.length === 0 && server.partialBytes === 0, 'the holders to be gone and their bytes released');
          gc();
          const released = memoryLine('released');

          const events = record(server, 'event');
          for (let i = 0; i < 4; i++) {
            const socket = await open();
            send(socket, head, partial);
            await until(
              () => server.partialBytes === held,
              () => `a new peer's partial frame to be held (${server.partialBytes})`,
              20000,
            );
            send(socket, rest);
            await until(() => events.length === i + 1, 'its whole 16 MiB frame as an event', 20000);
            socket.destroy();
            await until(() => server.clients.length === 0, 'the new peer to be gone');
          }
          assert.deepEqual(
            events.map(([event]) => event.name),
            ['Sized', 'Sized', 'Sized', 'Sized'],
          );
          assert.equal(problems.length, PEERS - 4);
          gc();
          console.log(`      ${[before, holding, released, memoryLine('after 4 more 16 MiB frames')].join('; ')}`);
          // Unbounded, the 100 partial frames alone would be 1,600 MiB.
          const { arrayBuffers } = process.memoryUsage();
          assert.ok(arrayBuffers < 4 * LIMIT, `${mib(arrayBuffers)} in Buffers after the test`);
        });

        it('our client: a server whose incomplete frame does not fit in maxPartialBytes is dropped (ERR_MINVR_BUFFER_FULL), and the client reconnects', async function () {
          const body = Buffer.from(jsonOfSize(10000), 'latin1');
          // The first connection gets a frame announcing 10,000 bytes and only 6,000 of them; later ones a whole frame.
          const script = (socket: net.Socket, index: number): void => {
            if (tcp) socket.write(index === 0 ? frame(body).subarray(0, 4 + 6000) : frame(body));
            else socket.write(index === 0 ? wsFrame(0x1, body).subarray(0, 4 + 6000) : wsFrame(0x1, body));
          };
          const hand = resources.add(tcp ? await ScriptedServer.start(script, { upgrade: false }) : await ScriptedServer.start(script));
          const client = newClient(hand.port, { maxPartialBytes: 4096 });
          const problem = next(client, 'problem');
          const event = next(client, 'event');
          void client.connect();
          const [error] = await problem;
          assert.equal(error.code, 'ERR_MINVR_BUFFER_FULL', error.message);
          assert.match(error.message, /maxPartialBytes \(4096 bytes/);
          assert.equal((await event)[0].name, 'Sized');
          assert.equal(client.partialBytes, 0);
        });

        it('a reading peer is not dropped for one event larger than maxBufferedBytes, nor for the small ones queued behind it', async function () {
          this.timeout(60000);
          const BOUND = 64 * 1024;
          const server = await newServer({ maxBufferedBytes: BOUND });
          const { peer, info } = await handClient(server);
          const problems = record(server, 'problem');
          const big: VREvent = { name: 'Big', type: 'String', data: 'b'.repeat(8 * 1024 * 1024) };
          assert.equal(server.send(big), 1);
          // The old rule (all unsent bytes against the bound) dropped the peer here.
          assert.ok(server.bufferedBytes > BOUND, `only ${server.bufferedBytes} bytes unsent right after the big event`);
          for (let i = 0; i < 10; i++) assert.equal(server.send({ name: `small/${i}`, type: 'Int32', data: i }), 1);
          const received = await waitForReceived(peer, 11, 'the big event and the small ones', 30000);
          assert.equal((received[0] as { m_Data: string }).m_Data.length, 8 * 1024 * 1024);
          assert.deepEqual(
            received.slice(1).map((body) => (body as { m_Name: string }).m_Name),
            Array.from({ length: 10 }, (_, i) => `small/${i}`),
          );
          assert.deepEqual(problems, []);
          assert.deepEqual(server.clients, [info]);
          assert.equal(peer.isClosed, false);
        });

        if (!tcp) {
          it('the bytes of a fragmented message count against the budget until its last fragment (a ping between fragments does not disturb)', async function () {
            const server = await newServer();
            const connected = next(server, 'connect');
            const socket = await rawWebSocket(server.port, '/vrevent');
            resources.add({ close: () => socket.destroy() });
            await connected;
            const json = jsonOfSize(30000);
            const parts = [json.slice(0, 10000), json.slice(10000, 20000), json.slice(20000)];
            const event = next(server, 'event');
            socket.write(wsFrame(0x1, parts[0], { fin: false, mask: true }));
            await until(
              () => server.partialBytes === 10000,
              () => `the first fragment to be counted (${server.partialBytes})`,
            );
            socket.write(wsFrame(0x9, 'ping', { mask: true }));
            const second = wsFrame(0x0, parts[1], { fin: false, mask: true });
            socket.write(second.subarray(0, 100));
            await until(
              () => server.partialBytes === 10000 + 100,
              () => `the first fragment and the start of the second (${server.partialBytes})`,
            );
            socket.write(second.subarray(100));
            await until(
              () => server.partialBytes === 20000,
              () => `two fragments (${server.partialBytes})`,
            );
            socket.write(wsFrame(0x0, parts[2], { fin: true, mask: true }));
            assert.equal((await event)[0].name, 'Sized');
            assert.equal(server.partialBytes, 0);
          });
        }
      });

      describe('slow peers', function () {
        const BUFFER_LIMIT = 256 * 1024;
        const big: VREvent = { name: 'Big', type: 'String', data: 'x'.repeat(128 * 1024) };

        /** Sends `big` until `dropped()` (at most 1,000 times, about 128 MiB), letting the loop turn now and then. */
        async function flood(endpoint: MinVREndpoint, dropped: () => boolean): Promise<number> {
          let sends = 0;
          while (!dropped() && sends < 1000) {
            endpoint.send(big);
            sends++;
            if (sends % 4 === 0) await delay(1);
          }
          return sends;
        }

        it('our server drops a peer that does not read (ERR_SLOW_PEER) and serves the next one', async function () {
          this.timeout(20000);
          const server = await newServer({ maxBufferedBytes: BUFFER_LIMIT });
          const connected = next(server, 'connect');
          if (tcp) {
            resources.add(await TcpPeer.connect(server.port, { read: false }));
          } else {
            const socket = await rawWebSocket(server.port, '/vrevent');
            socket.pause();
            resources.add({ close: () => socket.destroy() });
          }
          const [slow] = await connected;
          let problem: Args<'problem'> | undefined;
          server.on('problem', (...args) => void (problem = args));
          const sends = await flood(server, () => problem !== undefined);
          assert.ok(problem, `no ERR_SLOW_PEER after ${sends} events of 128 KiB`);
          assert.equal(problem[0].code, 'ERR_SLOW_PEER', problem[0].message);
          assert.deepEqual(problem[1], slow);
          await until(() => server.clients.length === 0, 'the slow peer to be gone');

          const { peer } = await handClient(server);
          assert.equal(server.send({ name: 'Next', type: '' }), 1);
          assert.deepEqual(await waitForReceived(peer, 1, 'an event at the next peer'), [{ m_Name: 'Next', m_DataTypeName: '' }]);
        });

        it('our client drops a server that does not read (ERR_SLOW_PEER) and reconnects', async function () {
          this.timeout(20000);
          const hand: { port: number; connections: number } = tcp
            ? resources.add(await TcpHandServer.start(0, undefined, { read: false }))
            : resources.add(await ScriptedServer.start((socket) => socket.pause()));
          const client = newClient(hand.port, { maxBufferedBytes: BUFFER_LIMIT });
          await client.connect();
          let problem: Args<'problem'> | undefined;
          client.on('problem', (...args) => void (problem = args));
          const retrying = next(client, 'status', (status) => status.state === 'reconnecting', 10000);
          const sends = await flood(client, () => problem !== undefined);
          assert.ok(problem, `no ERR_SLOW_PEER after ${sends} events of 128 KiB`);
          assert.equal(problem[0].code, 'ERR_SLOW_PEER', problem[0].message);
          assert.equal(problem[1]?.id, 'server');
          assert.equal(codeOf((await retrying)[0].error), 'ERR_SLOW_PEER');
          await until(() => hand.connections === 2 && client.connected, 'the client to reconnect');
        });
      });
    });
  }
});
