/**
 * Interop of our MinVR3 bridge (TCP JSON transport) with an independent peer
 * (issue #7): test/interop/peers/minvr_peer.py, a short Python program written from
 * the description of MinVR3's wire format with `socket` and `struct` only, run as a
 * real process in both roles on 127.0.0.1.
 *
 * The peer sends one event of every data type, echoes back every event it receives as
 * "echo/<name>" until "test/done", then sends "MinVR3/Shutdown" and exits 0. It prints
 * every frame body it receives, so the JSON we put on the wire is checked as well.
 */
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import path from 'path';
import { MinVRClient, MinVREndpoint, MinVRPeerInfo, MinVRServer, RealvirtualError, VREvent } from '../../engine';
import { nextEvent, Resources, until, within } from '../helpers/events';
import { findPython, peersDir, PythonPeer } from './python';

/** Bound of every single wait (the exchange itself takes well under a second). */
const WAIT_MS = 10000;

type SendMode = 'whole' | 'batch' | 'split';

/** 11 UTF-16 units: ASCII, Latin-1, an emoji (a surrogate pair) and a BMP symbol. */
const UNICODE_UNIT = 'Grüße 🚀 ✓ ';

/**
 * What the peer sends first, in order, as our engine must decode it. Written here from the
 * peer's script by hand, not computed from its JSON.
 */
const FROM_PEER: VREvent[] = [
  { name: 'peer/none', type: '' },
  // Math.fround(Math.PI), written at double precision as Unity writes a float.
  { name: 'peer/single', type: 'Single', data: 3.1415927410125732 },
  // Sent as 1.0.
  { name: 'peer/single-whole', type: 'Single', data: 1 },
  { name: 'peer/int-min', type: 'Int32', data: -2147483648 },
  { name: 'peer/int-max', type: 'Int32', data: 2147483647 },
  { name: 'peer/string', type: 'String', data: 'Grüße 🚀 ✓ "q" \\ /\n\t' },
  { name: 'peer/long', type: 'String', data: UNICODE_UNIT.repeat(5000) },
  { name: 'peer/vector2', type: 'Vector2', data: { x: 0.1, y: -2.5 } },
  // Sent as 1.0, 1e-07 and 123456.789.
  { name: 'peer/vector3', type: 'Vector3', data: { x: 1, y: 1e-7, z: 123456.789 } },
  { name: 'peer/vector4', type: 'Vector4', data: { x: -0.5, y: 0.25, z: 2, w: 1e20 } },
  // Sent with its keys in reverse order.
  { name: 'peer/quaternion', type: 'Quaternion', data: { x: 0, y: 0.7071067690849304, z: 0, w: 0.7071067690849304 } },
  { name: 'peer/gameobject', type: 'GameObject', data: { instanceID: -24680 } },
  { name: 'peer/unknown', type: 'MyType', data: { list: [1, 2.5, 'ü', true, null], nested: { deep: [{}] } }, unknownType: true },
];

/** One event of every type we can send (GameObject is receive only), each a little awkward. */
const TO_PEER: VREvent[] = [
  { name: 'test/none', type: '' },
  { name: 'test/single', type: 'Single', data: 0.1 },
  { name: 'test/single-max', type: 'Single', data: 3.4028234663852886e38 },
  { name: 'test/int', type: 'Int32', data: -2147483648 },
  { name: 'test/string', type: 'String', data: 'Grüße 🚀 ✓ "quoted" \\ back/slash\n\ttab \u0000 nul \u007f del \u2028 ls' },
  { name: 'test/string-empty', type: 'String', data: '' },
  { name: 'test/string-lone-surrogate', type: 'String', data: 'half \ud83d of a pair' },
  { name: 'test/long', type: 'String', data: UNICODE_UNIT.repeat(3000) },
  { name: 'test/vector2', type: 'Vector2', data: { x: 0.1, y: -0.2 } },
  { name: 'test/vector3', type: 'Vector3', data: { x: 1 / 3, y: -2.5, z: 1e21 } },
  { name: 'test/vector4', type: 'Vector4', data: { x: 5e-324, y: -1.7976931348623157e308, z: 0, w: 42 } },
  { name: 'test/quaternion', type: 'Quaternion', data: { x: 0, y: 0, z: 0.3826834323650898, w: 0.9238795325112867 } },
  { name: 'test/unknown', type: 'MyType', data: { list: [1, 2.5, 'ü 🚀', true, null], nested: { deep: [{}] } }, unknownType: true },
  { name: 'test/unknown-nodata', type: 'OtherType', unknownType: true },
];

const DONE: VREvent = { name: 'test/done', type: '' };
const SHUTDOWN: VREvent = { name: 'MinVR3/Shutdown', type: '' };

/** The peer prints frame bodies up to this many bytes, and only name and size of longer ones. */
const PEER_LONG_PRINT = 4096;

function echoOf(event: VREvent): VREvent {
  return { ...event, name: `echo/${event.name}` };
}

/** The VREvent JSON object the peer should have received for `event`. */
function wireObject(event: VREvent): Record<string, unknown> {
  const out: Record<string, unknown> = { m_Name: event.name, m_DataTypeName: event.type };
  if ('data' in event && event.data !== undefined) out.m_Data = event.data;
  return out;
}

/** JSON with every character above U+007F as \uXXXX: the byte count a MinVR3 receiver expects. */
function asciiJsonLength(value: unknown): number {
  return JSON.stringify(value).replace(/[^\x00-\x7f]/g, '\\uXXXX').length;
}

function describeEvents(events: VREvent[]): string {
  return events.map((event) => event.name).join(', ') || '(none)';
}

interface Exchange {
  py: PythonPeer;
  received: Array<{ event: VREvent; peer: MinVRPeerInfo }>;
  problems: RealvirtualError[];
  disconnects: MinVRPeerInfo[];
}

describe('interop: MinVR3 TCP JSON with an independent Python peer (socket + struct)', function () {
  const interpreter = findPython();
  const script = path.join(peersDir(), 'minvr_peer.py');
  const resources = new Resources();
  const peers: PythonPeer[] = [];

  before(function () {
    const result = spawnSync(interpreter, ['-c', 'import argparse, json, socket, struct, sys, time'], { encoding: 'utf8', timeout: 10000 });
    if (result.error || result.status !== 0) {
      throw new Error(`these tests need Python 3 (${interpreter}): ${result.error?.message ?? result.stderr.trim()}`);
    }
  });

  afterEach(async function () {
    for (const peer of peers.splice(0)) await peer.stop();
    await resources.closeAll();
  });

  function startPeer(args: string[]): PythonPeer {
    const peer = PythonPeer.run(script, [...args, '--timeout', String(WAIT_MS / 1000)], `minvr_peer.py ${args.join(' ')}`, interpreter);
    peers.push(peer);
    return peer;
  }

  function record(endpoint: MinVREndpoint, py: PythonPeer): Exchange {
    const exchange: Exchange = { py, received: [], problems: [], disconnects: [] };
    endpoint.on('event', (event, peer) => exchange.received.push({ event, peer }));
    endpoint.on('problem', (error) => exchange.problems.push(error));
    endpoint.on('disconnect', (peer) => exchange.disconnects.push(peer));
    return exchange;
  }

  /**
   * Runs the peer in `role` against our endpoint of the other role: once connected, sends
   * `toPeer` and then "test/done"; waits for the peer's Shutdown event and for its exit.
   */
  async function exchangeWith(role: 'client' | 'server', send: SendMode, toPeer: VREvent[]): Promise<Exchange> {
    let endpoint: MinVRServer | MinVRClient;
    let exchange: Exchange;
    if (role === 'client') {
      const server = resources.add(new MinVRServer({ transport: 'tcp', host: '127.0.0.1', port: 0 }));
      await within(server.listen(), 'our MinVRServer to listen', WAIT_MS);
      const connected = nextEvent(server, 'connect', undefined, WAIT_MS);
      const py = startPeer(['--role', 'client', '--port', String(server.port), '--send', send]);
      exchange = record(server, py);
      await connected.catch((error: Error) => {
        throw new Error(`${error.message}; the peer's output:\n${py.transcript()}`);
      });
      endpoint = server;
    } else {
      const py = startPeer(['--role', 'server', '--port', '0', '--send', send]);
      const { text, index } = await py.waitForLine(/^LISTENING \d+$/, WAIT_MS);
      assert.equal(index, 0, `LISTENING must be the peer's first line:\n${py.transcript()}`);
      const client = resources.add(new MinVRClient({ transport: 'tcp', host: '127.0.0.1', port: Number(text.split(' ')[1]), autoReconnect: false }));
      exchange = record(client, py);
      await within(client.connect(), `our MinVRClient to connect to the peer; its output:\n${py.transcript()}`, WAIT_MS);
      endpoint = client;
    }
    for (const event of [...toPeer, DONE]) assert.equal(endpoint.send(event), 1, `${event.name} went to one peer`);
    const { py, received } = exchange;
    await until(
      () => {
        if (received.some(({ event }) => event.name === SHUTDOWN.name)) return true;
        // Fails at once when the peer gave up (a frame it could not read, a broken connection).
        if (!py.running && py.exitCode !== 0) throw new Error(`the peer exited with code ${py.exitCode} (signal ${py.exitSignal}); its output:\n${py.transcript()}`);
        return false;
      },
      () => `the peer's MinVR3/Shutdown; received: ${describeEvents(received.map(({ event }) => event))}; the peer's output:\n${py.transcript()}`,
      WAIT_MS,
    );
    const exit = await py.waitForExit(WAIT_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, `the peer must exit 0; its output:\n${py.transcript()}`);
    // The peer closed the connection: our side sees it go.
    await until(
      () => exchange.disconnects.length === 1 && endpoint.clients.length === 0,
      () => 'our endpoint to see the peer disconnect',
      WAIT_MS,
    );
    return exchange;
  }

  /** Our endpoint received exactly `expected`, in order, from one peer, with no problem. */
  function assertReceived(exchange: Exchange, expected: VREvent[]): void {
    const { received, problems, py } = exchange;
    assert.deepEqual(
      problems.map((error) => error.message),
      [],
      `no problem expected; the peer's output:\n${py.transcript()}`,
    );
    const events = received.map(({ event }) => event);
    assert.deepEqual(
      events.map((event) => event.name),
      expected.map((event) => event.name),
      'the events received, in order',
    );
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(events[i], expected[i], `event #${i + 1} ${expected[i].name}`);
    }
    assert.equal(new Set(received.map(({ peer }) => peer.id)).size, 1, 'all from one peer');
  }

  /** The peer received exactly `sent`, in order, as ASCII JSON VREvents (its RECV lines). */
  function assertPeerReceived(py: PythonPeer, sent: VREvent[], mode: SendMode): void {
    const lines = py.stdoutLines();
    assert.equal(lines[lines.length - 1], 'DONE', `the peer's last line; its output:\n${py.transcript()}`);
    assert.ok(lines.includes(`SENT ${FROM_PEER.length}`), `the peer sent its ${FROM_PEER.length} events (--send ${mode})`);
    const frames = lines.filter((line) => /^RECV(LONG)? /.test(line));
    assert.equal(frames.length, sent.length, `frames the peer received:\n${frames.map((line) => line.slice(0, 120)).join('\n')}`);
    sent.forEach((event, i) => {
      const wire = wireObject(event);
      const size = asciiJsonLength(wire);
      if (size > PEER_LONG_PRINT) {
        assert.equal(frames[i], `RECVLONG ${event.name} ${size}`, `frame #${i + 1} as the peer got it`);
        return;
      }
      assert.ok(frames[i].startsWith('RECV '), `frame #${i + 1}: ${frames[i]}`);
      const body = frames[i].slice('RECV '.length);
      // ASCII only; control characters escaped (DEL, 0x7f, may stay as it is).
      assert.match(body, /^[\x20-\x7f]*$/, `frame #${i + 1} (${event.name}) is ASCII JSON without raw control characters`);
      assert.equal(body.length, size, `frame #${i + 1} (${event.name}) has the expected length`);
      assert.deepEqual(JSON.parse(body), wire, `frame #${i + 1} (${event.name}) as the peer got it`);
    });
  }

  it('the expected values are what the peer script and MinVR3 say', function () {
    assert.equal(Math.fround(Math.PI), 3.1415927410125732);
    assert.equal(Math.fround(3.4028234663852886e38), 3.4028234663852886e38, 'float max is a float');
    assert.equal(UNICODE_UNIT.length, 11);
    assert.equal(asciiJsonLength(UNICODE_UNIT), 2 + 2 + 6 + 6 + 2 + 12 + 1 + 6 + 1);
  });

  for (const role of ['client', 'server'] as const) {
    const ours = role === 'client' ? 'MinVRServer' : 'MinVRClient';

    it(`our ${ours} with the peer as ${role}: every data type both ways, echoes equal, Shutdown, exit 0`, async function () {
      const exchange = await exchangeWith(role, 'whole', TO_PEER);
      assertReceived(exchange, [...FROM_PEER, ...TO_PEER.map(echoOf), SHUTDOWN]);
      assertPeerReceived(exchange.py, [...TO_PEER, DONE], 'whole');
      const peerInfo = exchange.received[0].peer;
      if (role === 'client') assert.match(peerInfo.name, /^127\.0\.0\.1:\d+$/);
      else assert.equal(peerInfo.id, 'server');
    });

    for (const send of ['batch', 'split'] as const) {
      it(`our ${ours} with the peer as ${role}: frames sent ${send === 'batch' ? 'all in one sendall' : 'in pieces across frame boundaries, with pauses'} decode exactly`, async function () {
        const exchange = await exchangeWith(role, send, []);
        assertReceived(exchange, [...FROM_PEER, SHUTDOWN]);
        assertPeerReceived(exchange.py, [DONE], send);
      });
    }
  }
});
