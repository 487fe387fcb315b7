/**
 * minvr-connection, minvr-in and minvr-out in a real Node-RED runtime: the message of every
 * MinVR3 data type, the events filter, minvr-out's type inference and its errors, what
 * reaches which peer, status dots, deploys and invalid settings. Peers are our engine's
 * MinVRServer, bare TCP sockets that write and read frames by hand (4-byte little-endian
 * length + ASCII JSON), and raw `ws` clients.
 */
import assert from 'assert/strict';
import fs from 'fs';
import net from 'net';
import path from 'path';
import { MinVRPeerInfo, MinVRServer, MinVRServerOptions, VREvent } from '../../engine';
import { isListening, RawClient, Resources, SilentServer, silentClient } from '../helpers/events';
import { catchUncaught, handleCounts, seededRandom } from '../helpers/faults';
import { globMatches } from '../../nodes/lib/event-filter';
import {
  catchNode,
  completeNode,
  coreModules,
  deploy,
  errorsOf,
  FlowNode,
  freePort,
  helperNode,
  Inbox,
  load,
  Msg,
  node,
  nodesDir,
  RedNode,
  statuses,
  Status,
  TAB,
  runtimeResources,
  unload,
  until,
  waitForStatus,
  within,
} from './harness';

/*
 * Texts come from the catalogs (as RED._ answers: the key itself when a text is missing).
 */

function catalogLookup(type: string, key: string): string | undefined {
  try {
    const catalog = JSON.parse(fs.readFileSync(path.join(nodesDir, 'locales', 'en-US', `${type}.json`), 'utf8'));
    const text = `${type}.${key}`.split('.').reduce((at: any, part) => (at === undefined || at === null ? undefined : at[part]), catalog);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

function catalogText(type: string, key: string, substitutions: Record<string, unknown> = {}): string {
  // i18next's plural forms, as RED._ picks them for a count (English: one / other).
  const count = substitutions.count;
  const plural = typeof count === 'number' ? catalogLookup(type, `${key}_${count === 1 ? 'one' : 'other'}`) : undefined;
  const text = plural ?? catalogLookup(type, key);
  if (text === undefined) return `${type}.${key}`;
  return text.replace(/__(\w+)__/g, (_match, name: string) => String(substitutions[name] ?? ''));
}

const statusText = (key: string, substitutions: Record<string, unknown> = {}): string => catalogText('minvr-connection', `status.${key}`, substitutions);

const LISTENING: Status = { fill: 'green', shape: 'ring', text: statusText('listening') };
const peersStatus = (count: number): Status => ({ fill: 'green', shape: 'dot', text: statusText('clients', { count }) });
const sameStatus = (expected: Status) => (status: Status) => status.fill === expected.fill && status.shape === expected.shape && status.text === expected.text;

/*
 * Flow building blocks: a minvr-connection "conn" and nodes that use it (on the harness's tab f1).
 */

function minvrConnection(props: Record<string, unknown>, id = 'conn'): FlowNode {
  return { id, type: 'minvr-connection', ...props };
}

function minvrIn(id: string, props: Record<string, unknown> = {}, to: string[] = []): FlowNode {
  return { id, z: 'f1', type: 'minvr-in', x: 0, y: 0, connection: 'conn', ...props, wires: [to] };
}

function minvrOut(id: string, props: Record<string, unknown> = {}): FlowNode {
  return { id, z: 'f1', type: 'minvr-out', x: 0, y: 0, connection: 'conn', ...props, wires: [] };
}

/** Loads a server-mode flow on a free port and waits until `watch` shows it listening. */
async function serverFlow(nodes: FlowNode[], props: Record<string, unknown> = {}, watch = nodes.find((n) => n.type.startsWith('minvr-'))!.id): Promise<number> {
  const port = await freePort();
  await load([TAB, minvrConnection({ port, ...props }), ...nodes]);
  await waitForStatus(node(watch), (status) => status.fill === 'green', 'green (listening)');
  return port;
}

/*
 * Peers.
 */

/** A VREvent as it travels: `{"m_Name","m_DataTypeName","m_Data"}`. */
interface WireEvent {
  m_Name?: unknown;
  m_DataTypeName?: unknown;
  m_Data?: unknown;
  [key: string]: unknown;
}

function wire(name: string, type: string, data?: unknown): WireEvent {
  return data === undefined ? { m_Name: name, m_DataTypeName: type } : { m_Name: name, m_DataTypeName: type, m_Data: data };
}

/** JSON with every character >= U+0080 escaped, as a MinVR3 sender writes it. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A MinVR3 peer on a bare TCP socket: it frames what it sends by hand and splits what it receives into frames. */
class RawTcpPeer {
  /** The JSON text of every frame received, in order. */
  readonly texts: string[] = [];
  closed = false;
  private pending = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4) {
        const length = this.pending.readUInt32LE(0);
        if (this.pending.length < 4 + length) break;
        this.texts.push(this.pending.subarray(4, 4 + length).toString('latin1'));
        this.pending = this.pending.subarray(4 + length);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(resources: Resources, port: number): Promise<RawTcpPeer> {
    const socket = net.connect(port, '127.0.0.1');
    const peer = resources.add(new RawTcpPeer(socket));
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      }),
      `a TCP connection to port ${port}`,
    );
    return peer;
  }

  /** "127.0.0.1:port" of this end, as the server names the peer. */
  get name(): string {
    return `127.0.0.1:${this.socket.localPort}`;
  }

  /** Every frame received, parsed. */
  get events(): WireEvent[] {
    return this.texts.map((text) => JSON.parse(text) as WireEvent);
  }

  /** Writes one frame: an object as ASCII JSON, a string as it is. */
  send(body: WireEvent | string): void {
    const text = typeof body === 'string' ? body : asciiJson(body);
    const bytes = Buffer.from(text, 'utf8');
    const header = Buffer.alloc(4);
    header.writeUInt32LE(bytes.length, 0);
    this.socket.write(Buffer.concat([header, bytes]));
  }

  async next(count: number, from = 0): Promise<WireEvent[]> {
    await until(
      () => this.texts.length - from >= count,
      () => `${count} frame(s) at ${this.name} (got ${JSON.stringify(this.texts.slice(from))})`,
    );
    return this.events.slice(from, from + count);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}

/** Our engine's MinVRServer on a free port, recording every event it receives and every peer that connects. */
async function engineServer(
  resources: Resources,
  options: MinVRServerOptions = {},
): Promise<{ server: MinVRServer; received: Array<{ event: VREvent; peer: MinVRPeerInfo }>; connects: MinVRPeerInfo[] }> {
  const server = resources.add(new MinVRServer({ port: 0, ...options }));
  const received: Array<{ event: VREvent; peer: MinVRPeerInfo }> = [];
  const connects: MinVRPeerInfo[] = [];
  server.on('event', (event, peer) => received.push({ event, peer }));
  server.on('connect', (peer) => connects.push(peer));
  await within(server.listen(), 'our MinVRServer to listen');
  return { server, received, connects };
}

/** One event of each type a MinVR3 app sends, and the msg.payload it becomes. */
interface Sample {
  name: string;
  type: string;
  data?: unknown;
  payload: unknown;
}

const SAMPLES: Sample[] = [
  { name: 'Menu/Open', type: '', payload: null },
  { name: 'Speed', type: 'Single', data: 2.5, payload: 2.5 },
  { name: 'Whole', type: 'Single', data: 3, payload: 3 },
  { name: 'Count', type: 'Int32', data: -7, payload: -7 },
  { name: 'Big', type: 'Int32', data: 2147483647, payload: 2147483647 },
  { name: 'Label', type: 'String', data: 'Grüße ✓', payload: 'Grüße ✓' },
  { name: 'Empty', type: 'String', data: '', payload: '' },
  { name: 'Stick', type: 'Vector2', data: { x: 0.5, y: -1 }, payload: { x: 0.5, y: -1 } },
  { name: 'Head/Position', type: 'Vector3', data: { x: 1, y: 2.25, z: -3 }, payload: { x: 1, y: 2.25, z: -3 } },
  { name: 'Color', type: 'Vector4', data: { x: 0.1, y: 0.2, z: 0.3, w: 1 }, payload: { x: 0.1, y: 0.2, z: 0.3, w: 1 } },
  { name: 'Head/Rotation', type: 'Quaternion', data: { x: 0, y: 0.7071, z: 0, w: 0.7071 }, payload: { x: 0, y: 0.7071, z: 0, w: 0.7071 } },
];

/** Events only a raw peer can send (our engine does not send GameObjects), and what they become. */
const RAW_SAMPLES: Array<{ body: WireEvent | string; topic: string; payload: unknown; dataType: string; unknownType?: true }> = [
  { body: wire('Selected', 'GameObject', { instanceID: -1234 }), topic: 'Selected', payload: { instanceID: -1234 }, dataType: 'GameObject' },
  { body: wire('Custom', 'MyPlugin.Pose', { a: [1, 'x', null], b: { c: true } }), topic: 'Custom', payload: { a: [1, 'x', null], b: { c: true } }, dataType: 'MyPlugin.Pose', unknownType: true },
  { body: wire('Scalar', 'Double', 1.5), topic: 'Scalar', payload: 1.5, dataType: 'Double', unknownType: true },
  { body: wire('Bare', 'Other'), topic: 'Bare', payload: null, dataType: 'Other', unknownType: true },
  // What real senders also write: no m_DataTypeName, m_Data null, keys in another order, extra vector fields, 1.0 for an Int32.
  { body: '{"m_Name":"Plain"}', topic: 'Plain', payload: null, dataType: '' },
  { body: '{"m_Name":"NullData","m_DataTypeName":"","m_Data":null}', topic: 'NullData', payload: null, dataType: '' },
  { body: '{"m_Data":{"z":3,"extra":9,"y":2,"x":1},"m_DataTypeName":"Vector3","m_Name":"Reordered"}', topic: 'Reordered', payload: { x: 1, y: 2, z: 3 }, dataType: 'Vector3' },
  { body: '{"m_Name":"IntAsFloat","m_DataTypeName":"Int32","m_Data":1.0}\n', topic: 'IntAsFloat', payload: 1, dataType: 'Int32' },
];

function assertSamples(messages: Msg[], peer: MinVRPeerInfo): void {
  assert.deepEqual(
    messages.map((msg) => msg.topic),
    SAMPLES.map((sample) => sample.name),
  );
  SAMPLES.forEach((sample, i) => {
    const msg = messages[i];
    assert.deepEqual(msg.payload, sample.payload, `payload of ${sample.name}`);
    assert.deepEqual(msg.minvr, { dataType: sample.type, peer }, `msg.minvr of ${sample.name}`);
  });
}

function assertRawSamples(messages: Msg[], peer: MinVRPeerInfo): void {
  assert.deepEqual(
    messages.map((msg) => msg.topic),
    RAW_SAMPLES.map((sample) => sample.topic),
  );
  RAW_SAMPLES.forEach((sample, i) => {
    const msg = messages[i];
    assert.deepEqual(msg.payload, sample.payload, `payload of ${sample.topic}`);
    const minvr: Record<string, unknown> = { dataType: sample.dataType, peer };
    if (sample.unknownType) minvr.unknownType = true;
    assert.deepEqual(msg.minvr, minvr, `msg.minvr of ${sample.topic}`);
  });
}

function sampleEvent(sample: Sample): VREvent {
  return (sample.type === '' ? { name: sample.name, type: '' } : { name: sample.name, type: sample.type, data: sample.data }) as VREvent;
}

/** The Catch node's messages, checked to be ERR_MINVR_EVENT errors of `source`; returns their texts. */
function minvrErrors(messages: Msg[], source: string): string[] {
  return messages.map((msg) => {
    assert.equal(msg.error.code, 'ERR_MINVR_EVENT', `error code of ${JSON.stringify(msg.error)}`);
    assert.equal(msg.error.source.id, source);
    return String(msg.error.message);
  });
}

describe('nodes: minvr', function () {
  const resources = runtimeResources();

  describe('minvr-in: the message of every data type', function () {
    it('client mode (TCP) to our MinVRServer: topic, payload, msg.minvr {dataType, peer}; an event without data has payload null', async function () {
      const { server } = await engineServer(resources);
      await load([TAB, minvrConnection({ mode: 'client', port: server.port, reconnectInterval: 0.2 }), minvrIn('in', {}, ['h']), helperNode('h')]);
      await waitForStatus(node('in'), sameStatus({ fill: 'green', shape: 'dot', text: statusText('connected', { peer: `127.0.0.1:${server.port}` }) }), 'connected');
      await until(() => server.clients.length === 1, 'the node to be a peer of our server');
      const inbox = new Inbox('h');
      for (const sample of SAMPLES) server.send(sampleEvent(sample));
      const messages = await inbox.next(SAMPLES.length);
      assertSamples(messages, { id: 'server', name: `127.0.0.1:${server.port}` });
      // An unknown type keeps its name and its raw data.
      server.send({ name: 'Custom', type: 'MyType', data: { list: [1, 2], flag: false }, unknownType: true });
      const [custom] = await inbox.next(1, SAMPLES.length);
      assert.deepEqual(
        [custom.topic, custom.payload, custom.minvr],
        ['Custom', { list: [1, 2], flag: false }, { dataType: 'MyType', peer: { id: 'server', name: `127.0.0.1:${server.port}` }, unknownType: true }],
      );
      assert.equal(inbox.messages.length, SAMPLES.length + 1);
      assert.deepEqual(
        Object.keys(messages[0])
          .filter((key) => key !== '_msgid')
          .sort(),
        ['minvr', 'payload', 'topic'],
      );
    });

    it('server mode (TCP) with a raw client writing frames by hand: every type, GameObject, unknown types with their raw data, lenient forms; a bad frame is a warning and the next one arrives', async function () {
      const port = await serverFlow([minvrIn('in', {}, ['h']), helperNode('h')]);
      const inbox = new Inbox('h');
      const raw = await RawTcpPeer.connect(resources, port);
      const peer = { id: 'peer-1', name: raw.name };
      for (const sample of SAMPLES) raw.send(wire(sample.name, sample.type, sample.data));
      assertSamples(await inbox.next(SAMPLES.length), peer);
      for (const sample of RAW_SAMPLES) raw.send(sample.body);
      assertRawSamples(await inbox.next(RAW_SAMPLES.length, SAMPLES.length), peer);

      // Frames that are not VREvents: logged on the connection (not a crash, not a message); the stream goes on.
      const from = inbox.mark();
      raw.send('{"m_Name": broken');
      raw.send('{"m_Name":"BadVector","m_DataTypeName":"Vector3","m_Data":{"x":1}}');
      raw.send(wire('After', 'Int32', 1));
      const [after] = await inbox.next(1, from);
      assert.equal(after.topic, 'After');
      assert.equal(inbox.messages.length, from + 1);
      const warnings = (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((call) => call.thisValue === node('conn')).map((call) => String(call.args[0]));
      assert.equal(warnings.length, 2, JSON.stringify(warnings));
      assert.match(warnings[0], /JSON/);
      assert.match(warnings[1], /BadVector/);
      assert.deepEqual(errorsOf(node('conn')), []);
      assert.ok(!raw.closed, 'the peer was kept');
    });

    it('server mode (WebSocket) with a raw ws client: every type, GameObject, unknown type; minvr-out answers with text messages', async function () {
      const port = await serverFlow([minvrIn('in', {}, ['h']), minvrOut('out'), helperNode('h')], { transport: 'websocket' });
      const inbox = new Inbox('h');
      const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/vrevent`));
      await waitForStatus(node('in'), sameStatus(peersStatus(1)), '1 peer');
      for (const sample of SAMPLES) client.send(wire(sample.name, sample.type, sample.data));
      const peer = { id: 'peer-1', name: `127.0.0.1:${(client.ws as any)._socket.localPort}` };
      assertSamples(await inbox.next(SAMPLES.length), peer);
      for (const sample of RAW_SAMPLES) client.send(sample.body);
      assertRawSamples(await inbox.next(RAW_SAMPLES.length, SAMPLES.length), peer);

      node('out').receive({ topic: 'Back', payload: { x: 1, y: 2, z: 3 } });
      node('out').receive({ topic: 'Ping' });
      await until(
        () => client.frames.length === 2,
        () => `2 messages at the ws client (got ${JSON.stringify(client.frames)})`,
      );
      assert.deepEqual(client.frames, [wire('Back', 'Vector3', { x: 1, y: 2, z: 3 }), wire('Ping', '')]);
    });

    it('client mode (WebSocket, own path) to our MinVRServer: events both ways', async function () {
      const { server, received } = await engineServer(resources, { transport: 'websocket', path: '/custom' });
      await load([
        TAB,
        minvrConnection({ transport: 'websocket', mode: 'client', port: server.port, path: '/custom', reconnectInterval: 0.2 }),
        minvrIn('in', {}, ['h']),
        minvrOut('out'),
        helperNode('h'),
      ]);
      await waitForStatus(node('in'), (status) => status.fill === 'green' && status.shape === 'dot', 'connected');
      await until(() => server.clients.length === 1, 'the node to be a peer of our server');
      const inbox = new Inbox('h');
      for (const sample of SAMPLES) server.send(sampleEvent(sample));
      assertSamples(await inbox.next(SAMPLES.length), { id: 'server', name: `127.0.0.1:${server.port}` });

      node('out').receive({ topic: 'Hand/Position', payload: { x: 1, y: 2, z: 3 } });
      node('out').receive({ topic: 'Count', payload: 4 });
      await until(
        () => received.length === 2,
        () => `2 events at our server (got ${JSON.stringify(received)})`,
      );
      assert.deepEqual(
        received.map((r) => r.event),
        [
          { name: 'Hand/Position', type: 'Vector3', data: { x: 1, y: 2, z: 3 } },
          { name: 'Count', type: 'Int32', data: 4 },
        ],
      );
      assert.equal(received[0].peer.id, 'peer-1');
    });
  });

  describe('minvr-in: the events filter', function () {
    const NAMES = [
      'MinVR3/DeltaTime',
      'MinVR3/Other',
      'Head/Position',
      'Head/Secret/Key',
      'Head',
      'Hand1/Pos',
      'HandL/Pos',
      'Hand12/Pos',
      'Hand/Pos',
      'CamXPos',
      'Cam.Pos',
      'head/position',
      'Tracker[1](a)+',
      'End',
    ];
    const FILTERS: Record<string, [string | undefined, string[]]> = {
      absent: [undefined, NAMES.filter((name) => name !== 'MinVR3/DeltaTime')],
      blank: [' , ! ,', NAMES.filter((name) => name !== 'MinVR3/DeltaTime')],
      star: ['*', NAMES],
      head: [' Head/* , Hand?/Pos,End ', ['Head/Position', 'Head/Secret/Key', 'Hand1/Pos', 'HandL/Pos', 'End']],
      noHead: ['!Head/*', NAMES.filter((name) => !name.startsWith('Head/'))],
      mixed: ['Head/*, !Head/Secret*, End', ['Head/Position', 'End']],
      dot: ['Cam.Pos, End', ['Cam.Pos', 'End']],
      special: ['Tracker[1](a)+, End', ['Tracker[1](a)+', 'End']],
      noMinVR: ['*, !MinVR3/*', NAMES.filter((name) => !name.startsWith('MinVR3/'))],
    };

    it('default drops only MinVR3/DeltaTime; globs (* across /, ?), exclusions and explicit "*" (DeltaTime too) on nodes sharing one connection', async function () {
      const ids = Object.keys(FILTERS);
      const nodes: FlowNode[] = [];
      for (const id of ids) {
        const [events] = FILTERS[id];
        nodes.push(minvrIn(id, events === undefined ? {} : { events }, [`h-${id}`]), helperNode(`h-${id}`));
      }
      const port = await serverFlow(nodes);
      const inboxes = new Map(ids.map((id) => [id, new Inbox(`h-${id}`)]));
      const raw = await RawTcpPeer.connect(resources, port);
      raw.send(wire('MinVR3/DeltaTime', 'Single', 0.011));
      for (const name of NAMES.slice(1)) raw.send(wire(name, ''));
      for (const id of ids) {
        const inbox = inboxes.get(id)!;
        await inbox.find((msg) => msg.topic === 'End', 'End');
        assert.deepEqual(
          inbox.messages.map((msg) => msg.topic),
          FILTERS[id][1],
          `events through ${id} (${JSON.stringify(FILTERS[id][0])})`,
        );
      }
      const [delta] = inboxes.get('star')!.messages;
      assert.deepEqual([delta.payload, delta.minvr.dataType], [0.011, 'Single']);
    });

    it('two nodes get their own payload and msg.minvr: a flow that changes one does not change the other', async function () {
      const func = {
        id: 'func',
        z: 'f1',
        type: 'function',
        x: 0,
        y: 0,
        func: 'msg.payload.x = 999; if (msg.payload.b) msg.payload.b.c = "changed"; msg.minvr.peer.id = "changed"; msg.minvr.dataType = "changed"; return msg;',
        outputs: 1,
        noerr: 0,
        wires: [['h-a']],
      };
      const port = await freePort();
      await load(
        [TAB, minvrConnection({ port }), minvrIn('a', { events: '*' }, ['func']), func, minvrIn('b', { events: '*' }, ['h-b']), helperNode('h-a'), helperNode('h-b')],
        {},
        coreModules(['function']),
      );
      await waitForStatus(node('b'), (status) => status.fill === 'green', 'listening');
      const a = new Inbox('h-a');
      const b = new Inbox('h-b');
      const raw = await RawTcpPeer.connect(resources, port);
      raw.send(wire('Head/Position', 'Vector3', { x: 1, y: 2, z: 3 }));
      raw.send(wire('Custom', 'MyType', { x: 1, b: { c: 'original' } }));
      const changed = await a.next(2);
      const kept = await b.next(2);
      assert.deepEqual(changed[0].payload, { x: 999, y: 2, z: 3 }, 'the function node ran');
      assert.deepEqual(changed[1].payload, { x: 999, b: { c: 'changed' } });
      assert.deepEqual(kept[0].payload, { x: 1, y: 2, z: 3 });
      assert.deepEqual(kept[1].payload, { x: 1, b: { c: 'original' } });
      assert.deepEqual(kept[0].minvr, { dataType: 'Vector3', peer: { id: 'peer-1', name: raw.name } });
      assert.deepEqual(kept[1].minvr, { dataType: 'MyType', peer: { id: 'peer-1', name: raw.name }, unknownType: true });
    });
  });

  describe('minvr-in: glob matching', function () {
    /** What the filter meant all along, as a regular expression (fine for the short names here). */
    const reference = (glob: string, name: string): boolean =>
      new RegExp(
        `^${glob
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        's',
      ).test(name);

    it('agrees with the regular expression on 20,000 seeded globs and names', function () {
      const random = seededRandom(11);
      const pick = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (let i = 0; i < 20000; i++) {
        const glob = pick('ab/*?.', Math.floor(random() * 7));
        const name = pick('ab/.', Math.floor(random() * 9));
        assert.equal(globMatches(glob, name), reference(glob, name), `${JSON.stringify(glob)} on ${JSON.stringify(name)}`);
      }
    });

    it('a 1 MiB name a peer chose against *a*a*a*b takes at most name length × glob length steps (a regular expression backtracks for hours)', function () {
      const name = 'a'.repeat(1024 * 1024);
      assert.equal(globMatches('*a*a*a*b', name), false);
      assert.equal(globMatches('*a*a*a*', name), true);
    });
  });

  describe('minvr-in: hostile peers', function () {
    /** An event of unknown type whose m_Data is an array nested `depth` deep (the crash: minvr-in copied it recursively). */
    const nested = (depth: number): string => `{"m_Name":"Deep","m_DataTypeName":"My.Nested","m_Data":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const connWarnings = (): string[] =>
      (node('conn').warn.getCalls() as Array<{ thisValue: unknown; args: unknown[] }>).filter((call) => call.thisValue === node('conn')).map((call) => String(call.args[0]));

    for (const transport of ['tcp', 'websocket'] as const) {
      it(`${transport}: events nested 4,000 and 100,000 deep: Node-RED carries on, one log line each, the peer and the other peer's events still arrive`, async function () {
        const uncaught = catchUncaught();
        try {
          const port = await serverFlow([minvrIn('in', {}, ['h']), helperNode('h')], { transport });
          const inbox = new Inbox('h');
          const send = async (): Promise<(body: string) => void> => {
            if (transport === 'tcp') {
              const raw = await RawTcpPeer.connect(resources, port);
              return (body) => raw.send(body);
            }
            const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${port}/vrevent`));
            return (body) => client.ws.send(body);
          };
          const attacker = await send();
          const bystander = await send();
          await waitForStatus(node('in'), sameStatus(peersStatus(2)), '2 peers');
          for (const depth of [4000, 100000]) {
            attacker(nested(depth));
            attacker(JSON.stringify(wire(`attacker/${depth}`, 'Int32', 1)));
            bystander(JSON.stringify(wire(`bystander/${depth}`, 'Int32', 2)));
          }
          const messages = await inbox.next(4);
          assert.deepEqual(messages.map((msg) => msg.topic).sort(), ['attacker/100000', 'attacker/4000', 'bystander/100000', 'bystander/4000']);
          const warnings = connWarnings();
          assert.equal(warnings.length, 2, JSON.stringify(warnings));
          // 4,000 deep: over the depth limit; 100,000 deep: also over the limit of values, refused before parsing.
          assert.match(warnings[0], /"Deep".*nested deeper than 64 levels/);
          assert.match(warnings[1], /more than 100000 JSON values/);
          assert.deepEqual(errorsOf(node('conn')), []);
          assert.deepEqual(uncaught.errors, []);
          assert.deepEqual(statuses(node('in')).at(-1), peersStatus(2));
        } finally {
          uncaught.stop();
        }
      });
    }

    it('maxPartialBytes: absent or "" (flows of older versions) is 64 MiB; set, a peer whose incomplete frame goes over it is dropped with one log line, the other peer carries on', async function () {
      await load([
        TAB,
        minvrConnection({ port: await freePort() }, 'conn-absent'),
        minvrConnection({ port: await freePort(), maxPartialBytes: '' }, 'conn-empty'),
        { ...minvrIn('in-absent'), connection: 'conn-absent' },
        { ...minvrIn('in-empty'), connection: 'conn-empty' },
      ]);
      for (const id of ['conn-absent', 'conn-empty']) {
        await until(() => (node(id).connection as any).endpoint, `${id} to open`);
        assert.equal((node(id).connection as any).endpoint.settings.maxPartialBytes, 64 * 1024 * 1024, id);
      }
      await unload();
      const port = await serverFlow([minvrIn('in', {}, ['h']), helperNode('h')], { maxPartialBytes: 1000 });
      const inbox = new Inbox('h');
      const greedy = await RawTcpPeer.connect(resources, port);
      const steady = await RawTcpPeer.connect(resources, port);
      const header = Buffer.alloc(4);
      header.writeUInt32LE(5000, 0);
      greedy.socket.write(Buffer.concat([header, Buffer.alloc(2000, 0x20)]));
      await until(() => greedy.closed, 'the greedy peer to be dropped');
      steady.send(wire('Steady', 'Int32', 1));
      assert.equal((await inbox.next(1))[0].topic, 'Steady');
      const warnings = connWarnings();
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0], /does not fit in maxPartialBytes \(1000 bytes/);
      assert.ok(!steady.closed);
    });

    it('a minvr-in node that throws on an event: a Catch node gets ERR_MINVR_EVENT, the other node still gets the event, the peer stays', async function () {
      const port = await serverFlow([minvrIn('in1', {}, ['h1']), minvrIn('in2', {}, ['h2']), helperNode('h1'), helperNode('h2'), catchNode('catch', 'hc'), helperNode('hc')]);
      const first = new Inbox('h1');
      const second = new Inbox('h2');
      const caught = new Inbox('hc');
      const raw = await RawTcpPeer.connect(resources, port);
      // The real node, whose send throws on one event (as the payload copy did on deep data).
      const target = node('in1') as unknown as { send: (msg: Msg) => void };
      const send = target.send.bind(target);
      target.send = (msg: Msg) => {
        if (msg.topic === 'Explode') throw new RangeError('Maximum call stack size exceeded');
        send(msg);
      };
      raw.send(wire('Explode', 'Int32', 1));
      raw.send(wire('After', 'Int32', 2));
      const [error] = await caught.next(1);
      assert.equal(error.error.code, 'ERR_MINVR_EVENT');
      assert.equal(error.error.source.id, 'in1');
      assert.match(error.error.message, /"Explode" could not be passed on: Maximum call stack/);
      assert.equal(error.topic, 'Explode');
      assert.deepEqual(
        (await second.next(2)).map((msg) => msg.topic),
        ['Explode', 'After'],
      );
      assert.deepEqual(
        (await first.next(1)).map((msg) => msg.topic),
        ['After'],
      );
      assert.ok(!raw.closed, 'the peer was kept');
    });
  });

  describe('minvr-out', function () {
    /** Server mode with one raw TCP peer; `out` (plus `extra`) with a Catch and a Complete node. */
    async function outFlow(extra: FlowNode[] = [], outProps: Record<string, unknown> = {}): Promise<{ raw: RawTcpPeer; caught: Inbox; completed: Inbox }> {
      const outs = [minvrOut('out', outProps), ...extra.filter((n) => n.type === 'minvr-out')];
      const port = await serverFlow([
        ...outs,
        ...extra.filter((n) => n.type !== 'minvr-out'),
        catchNode('catch', 'h-catch'),
        completeNode(
          'done',
          outs.map((n) => n.id),
          'h-done',
        ),
        helperNode('h-catch'),
        helperNode('h-done'),
      ]);
      const raw = await RawTcpPeer.connect(resources, port);
      await waitForStatus(node('out'), sameStatus(peersStatus(1)), '1 peer');
      return { raw, caught: new Inbox('h-catch'), completed: new Inbox('h-done') };
    }

    it('infers the type from msg.payload: int32 integers Int32 (also -0 and negatives), other numbers Single, strings String, {x,y}/{x,y,z}/{x,y,z,w} Vector2/3/4, null and undefined no data', async function () {
      const { raw, caught, completed } = await outFlow();
      const cases: Array<[unknown, string, unknown]> = [
        [5, 'Int32', 5],
        [-7, 'Int32', -7],
        [0, 'Int32', 0],
        [-0, 'Int32', 0],
        [2147483647, 'Int32', 2147483647],
        [-2147483648, 'Int32', -2147483648],
        [2147483648, 'Single', 2147483648],
        [-2147483649, 'Single', -2147483649],
        [1e20, 'Single', 1e20],
        [2.5, 'Single', 2.5],
        [-0.125, 'Single', -0.125],
        ['text', 'String', 'text'],
        ['', 'String', ''],
        ['Grüße ✓', 'String', 'Grüße ✓'],
        [{ x: 1, y: 2 }, 'Vector2', { x: 1, y: 2 }],
        [{ x: 1, y: 2, z: 3 }, 'Vector3', { x: 1, y: 2, z: 3 }],
        [{ w: 4, z: 3, y: 2, x: 1 }, 'Vector4', { x: 1, y: 2, z: 3, w: 4 }],
        [null, '', undefined],
        [undefined, '', undefined],
      ];
      cases.forEach(([payload], i) => node('out').receive({ topic: `Case/${i}`, payload }));
      const events = await raw.next(cases.length);
      cases.forEach(([payload, type, data], i) => {
        assert.deepEqual(events[i], wire(`Case/${i}`, type, data), `payload ${String(payload)} (${JSON.stringify(payload)})`);
      });
      // The wire form, exactly: key order, no m_Data without data, ASCII only with \u escapes.
      assert.equal(raw.texts[0], '{"m_Name":"Case/0","m_DataTypeName":"Int32","m_Data":5}');
      assert.equal(raw.texts[3], '{"m_Name":"Case/3","m_DataTypeName":"Int32","m_Data":0}');
      assert.equal(raw.texts[13], '{"m_Name":"Case/13","m_DataTypeName":"String","m_Data":"Gr\\u00fc\\u00dfe \\u2713"}');
      assert.equal(raw.texts[17], '{"m_Name":"Case/17","m_DataTypeName":""}');
      for (const text of raw.texts) assert.match(text, /^[\x20-\x7e]*$/, 'every frame is printable ASCII');
      await completed.next(cases.length);
      assert.equal(caught.messages.length, 0, caught.describe());
    });

    it("the node's dataType, overridden by msg.dataType; type names in any case; 'none' sends no data; Quaternion only when asked", async function () {
      const { raw, caught, completed } = await outFlow([minvrOut('single', { dataType: 'Single' }), minvrOut('quat', { dataType: 'quaternion' }), minvrOut('none', { dataType: 'none' })]);
      const sends: Array<[string, Msg, WireEvent]> = [
        ['single', { topic: 'A', payload: 5 }, wire('A', 'Single', 5)],
        ['single', { topic: 'B', payload: 5, dataType: 'Int32' }, wire('B', 'Int32', 5)],
        ['single', { topic: 'C', payload: { x: 1, y: 2, z: 3 }, dataType: 'vector3' }, wire('C', 'Vector3', { x: 1, y: 2, z: 3 })],
        ['single', { topic: 'D', payload: 7, dataType: '' }, wire('D', 'Single', 7)],
        ['single', { topic: 'E', payload: 7, dataType: 'NONE' }, wire('E', '')],
        ['out', { topic: 'F', payload: { x: 0, y: 0, z: 0, w: 1 } }, wire('F', 'Vector4', { x: 0, y: 0, z: 0, w: 1 })],
        ['out', { topic: 'G', payload: { x: 0, y: 0, z: 0, w: 1 }, dataType: ' QUATERNION ' }, wire('G', 'Quaternion', { x: 0, y: 0, z: 0, w: 1 })],
        ['out', { topic: 'H', payload: 'text', dataType: 'string' }, wire('H', 'String', 'text')],
        ['out', { topic: 'I', payload: 3, dataType: 'Single' }, wire('I', 'Single', 3)],
        ['out', { topic: 'J', payload: 'ignored', dataType: 'none' }, wire('J', '')],
        ['quat', { topic: 'K', payload: { w: 1, x: 0, y: 0, z: 0 } }, wire('K', 'Quaternion', { x: 0, y: 0, z: 0, w: 1 })],
        ['quat', { topic: 'L', payload: { x: 0, y: 0, z: 0, w: 1 }, dataType: 'Vector4' }, wire('L', 'Vector4', { x: 0, y: 0, z: 0, w: 1 })],
        ['none', { topic: 'M', payload: 5 }, wire('M', '')],
        ['none', { topic: 'N', payload: 5, dataType: 'Int32' }, wire('N', 'Int32', 5)],
      ];
      for (const [id, msg] of sends) node(id).receive(msg);
      const events = await raw.next(sends.length);
      assert.deepEqual(
        events,
        sends.map(([, , expected]) => expected),
      );
      await completed.next(sends.length);
      assert.equal(caught.messages.length, 0, caught.describe());
    });

    it('every bad input fails through done(err) with code ERR_MINVR_EVENT to a Catch node and sends nothing; the status shows the error until the next good message', async function () {
      const { raw, caught, completed } = await outFlow([minvrOut('vec3', { dataType: 'Vector3' })]);
      const noTopic = catalogText('minvr-out', 'errors.no-topic');
      const bad: Array<[string, Msg, RegExp | string]> = [
        ['out', { topic: 'Bad', payload: NaN }, /finite number.*NaN/],
        ['out', { topic: 'Bad', payload: Infinity }, /finite number.*Infinity/],
        ['out', { topic: 'Bad', payload: -Infinity }, /finite number/],
        ['out', { topic: 'Bad', payload: true }, /boolean true/],
        ['out', { topic: 'Bad', payload: [1, 2, 3] }, /array/],
        ['out', { topic: 'Bad', payload: { x: 1 } }, /keys x/],
        ['out', { topic: 'Bad', payload: { x: 1, y: 2, z: 3, q: 4 } }, /keys x, y, z, q/],
        ['out', { topic: 'Bad', payload: { x: 1, y: 2, z: NaN } }, /z.*finite number/],
        ['out', { topic: 'Bad', payload: {} }, /no keys/],
        ['out', { topic: 'Bad', payload: { x: 1, y: 2 }, dataType: 'Vector3' }, /data\.z of a Vector3/],
        ['out', { topic: 'Bad', payload: { x: 1, y: 2, z: 3 }, dataType: 'Vector2' }, /unexpected field "z"/],
        ['out', { topic: 'Bad', payload: { x: '1', y: 0, z: 0, w: 1 }, dataType: 'Quaternion' }, /data\.x of a Quaternion/],
        ['out', { topic: 'Bad', payload: 5, dataType: 'String' }, /String must be a string/],
        ['out', { topic: 'Bad', payload: '5', dataType: 'Single' }, /Single must be a finite number/],
        ['out', { topic: 'Bad', payload: 2.5, dataType: 'Int32' }, /Int32 must be an integer/],
        ['out', { topic: 'Bad', payload: 2147483648, dataType: 'Int32' }, /Int32 must be an integer/],
        ['out', { topic: 'Bad', payload: null, dataType: 'Single' }, /Single must be a finite number/],
        ['out', { topic: 'Bad', payload: 1, dataType: 'Float' }, /"Float"/],
        ['out', { topic: 'Bad', payload: { instanceID: 1 }, dataType: 'GameObject' }, /"GameObject"/],
        ['out', { topic: 'Bad', payload: 1, dataType: 3 }, /"3"/],
        ['out', { payload: 1 }, noTopic],
        ['out', { topic: '', payload: 1 }, noTopic],
        ['out', { topic: 5, payload: 1 }, noTopic],
        ['vec3', { topic: 'Bad', payload: 5 }, /Vector3 must be an object/],
        ['vec3', { topic: 'Bad', payload: { x: 1, y: 2, z: 3, w: 4 } }, /unexpected field "w"/],
      ];
      bad.forEach(([id, msg], i) => node(id).receive({ ...msg, index: i }));
      const errors = (await caught.next(bad.length)).sort((a, b) => a.index - b.index);
      const texts = bad.map(([id], i) => minvrErrors([errors[i]], id)[0]);
      bad.forEach(([, msg, expected], i) => {
        assert.equal(errors[i].index, i, 'the Catch node gets the original msg');
        // The Catch node gets the error as text: "ProtocolError: <message>".
        if (typeof expected === 'string') assert.ok(texts[i].endsWith(`: ${expected}`), `${JSON.stringify(msg)}: ${texts[i]}`);
        else assert.match(texts[i], expected, `${JSON.stringify(msg)}`);
      });
      const red = await waitForStatus(node('out'), (status) => status.fill === 'red', 'the error on the status');
      assert.equal(red.shape, 'ring');
      const shown = (red.text ?? '').replace(/…$/, '');
      assert.ok(shown.length > 0 && texts[0].includes(`Error: ${shown}`), `status ${red.text} shows the first error ${texts[0]}`);
      assert.equal(completed.messages.length, 0, 'done() was called without an error for a bad msg');

      // Nothing was sent: the next frame the peer gets is the good message's.
      const mark = statuses(node('out')).length;
      node('out').receive({ topic: 'Good', payload: 1 });
      await completed.next(1);
      await raw.next(1);
      assert.deepEqual(raw.events, [wire('Good', 'Int32', 1)]);
      await waitForStatus(node('out'), sameStatus(peersStatus(1)), 'the connection status again', mark);
      assert.ok(statuses(node('vec3')).slice(-1)[0].fill === 'red', 'the other node still shows its own error');
      assert.deepEqual(errorsOf(node('conn')), []);
    });

    it('with no peer connected a good message completes without error (it goes nowhere) and a bad one still fails', async function () {
      await serverFlow([minvrOut('out'), catchNode('catch', 'h-catch'), completeNode('done', ['out'], 'h-done'), helperNode('h-catch'), helperNode('h-done')]);
      await waitForStatus(node('out'), sameStatus(LISTENING), 'listening: 0 peers');
      const caught = new Inbox('h-catch');
      const completed = new Inbox('h-done');
      node('out').receive({ topic: 'Nobody', payload: 1 });
      node('out').receive({ topic: 'Nobody', payload: true });
      node('out').receive({ topic: 'Nobody' });
      await completed.next(2);
      const [error] = await caught.next(1);
      minvrErrors([error], 'out');
      assert.equal(error.payload, true);
      assert.deepEqual(
        completed.messages.map((msg) => msg.payload),
        [1, undefined],
      );
    });
  });

  describe('minvr-connection: peers', function () {
    it('server mode sends to every connected peer and does not relay what one peer sends to another', async function () {
      const port = await serverFlow([minvrIn('in', {}, ['h']), minvrOut('out'), helperNode('h')]);
      const inbox = new Inbox('h');
      const a = await RawTcpPeer.connect(resources, port);
      const b = await RawTcpPeer.connect(resources, port);
      await waitForStatus(node('out'), sameStatus(peersStatus(2)), '2 peers');

      node('out').receive({ topic: 'ToAll', payload: { x: 1, y: 2 } });
      const expected = wire('ToAll', 'Vector2', { x: 1, y: 2 });
      assert.deepEqual(await a.next(1), [expected]);
      assert.deepEqual(await b.next(1), [expected]);

      a.send(wire('FromA', 'String', 'only for Node-RED'));
      const [fromA] = await inbox.next(1);
      assert.deepEqual([fromA.topic, fromA.payload, fromA.minvr.peer], ['FromA', 'only for Node-RED', { id: 'peer-1', name: a.name }]);
      b.send(wire('FromB', ''));
      const [fromB] = await inbox.next(1, 1);
      assert.deepEqual([fromB.topic, fromB.payload, fromB.minvr.peer], ['FromB', null, { id: 'peer-2', name: b.name }]);

      // Had anything been relayed, it would have been written before this.
      node('out').receive({ topic: 'Second', payload: 2 });
      await a.next(2);
      await b.next(2);
      assert.deepEqual(a.events, [expected, wire('Second', 'Int32', 2)]);
      assert.deepEqual(b.events, [expected, wire('Second', 'Int32', 2)]);
    });
  });

  describe('minvr-connection: status', function () {
    it('server mode: connecting, then listening with 0 peers (green ring), N peers (green dot), back to 0 as they leave; on every user node', async function () {
      const port = await freePort();
      await load([TAB, minvrConnection({ port }), minvrIn('in'), minvrOut('out')]);
      for (const id of ['in', 'out']) await waitForStatus(node(id), sameStatus(LISTENING), 'listening: 0 peers');
      assert.deepEqual(statuses(node('in'))[0], { fill: 'yellow', shape: 'ring', text: statusText('connecting') });
      const a = await RawTcpPeer.connect(resources, port);
      await waitForStatus(node('in'), sameStatus(peersStatus(1)), '1 peer');
      const b = await RawTcpPeer.connect(resources, port);
      const c = await RawTcpPeer.connect(resources, port);
      for (const id of ['in', 'out']) await waitForStatus(node(id), sameStatus(peersStatus(3)), '3 peers');
      let mark = statuses(node('in')).length;
      await b.close();
      await waitForStatus(node('in'), sameStatus(peersStatus(2)), '2 peers', mark);
      mark = statuses(node('in')).length;
      await a.close();
      await c.close();
      await waitForStatus(node('in'), sameStatus(LISTENING), 'listening: 0 peers again', mark);
      assert.deepEqual(statuses(node('out')).slice(-1)[0], LISTENING);
      assert.ok(!statuses(node('in')).some((status) => status.fill === 'red'), JSON.stringify(statuses(node('in'))));
    });

    it('client mode: connecting, disconnected (red ring, with the reason) while nothing listens, connected, and again after our server restarts on the same port', async function () {
      this.timeout(30000);
      const port = await freePort();
      await load([TAB, minvrConnection({ mode: 'client', port, reconnectInterval: 0.2 }), minvrIn('in', {}, ['h']), minvrOut('out'), helperNode('h')]);
      const inNode = node('in');
      assert.deepEqual(statuses(inNode)[0], { fill: 'yellow', shape: 'ring', text: statusText('connecting') });
      await waitForStatus(inNode, sameStatus({ fill: 'red', shape: 'ring', text: statusText('disconnected', { reason: 'ECONNREFUSED' }) }), 'disconnected: ECONNREFUSED');
      const connected: Status = { fill: 'green', shape: 'dot', text: statusText('connected', { peer: `127.0.0.1:${port}` }) };

      const first = await engineServer(resources, { port });
      let mark = statuses(inNode).length;
      await waitForStatus(inNode, sameStatus(connected), 'connected', mark, 10000);
      await waitForStatus(node('out'), sameStatus(connected), 'connected (out)');
      await until(() => first.server.clients.length === 1, 'the node to be a peer of the first server');

      mark = statuses(inNode).length;
      await first.server.close();
      const down = await waitForStatus(inNode, (status) => status.fill === 'red', 'red once the server is gone', mark);
      assert.equal(down.shape, 'ring');
      const prefix = statusText('disconnected', { reason: '' });
      assert.ok(down.text!.startsWith(prefix) && down.text!.length > prefix.length, `the status gives a reason: ${down.text}`);

      const second = await engineServer(resources, { port });
      mark = statuses(inNode).length;
      await waitForStatus(inNode, sameStatus(connected), 'connected again', mark, 10000);
      await until(() => second.server.clients.length === 1, 'the node to be a peer of the second server');
      const inbox = new Inbox('h');
      second.server.send({ name: 'Again', type: 'Int32', data: 2 });
      const [msg] = await inbox.next(1);
      assert.deepEqual([msg.topic, msg.payload], ['Again', 2]);
      node('out').receive({ topic: 'Back', payload: 'hello' });
      await until(() => second.received.length === 1, 'the event at the second server');
      assert.deepEqual(second.received[0].event, { name: 'Back', type: 'String', data: 'hello' });
      assert.deepEqual(errorsOf(node('conn')), []);
    });

    it('invalid settings give a red status and an error, not a crash; minvr-out then fails its messages; a node without a connection says so', async function () {
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['bigPort', { port: 70000 }, /port/],
        ['clientPort0', { mode: 'client', port: 0 }, /port/],
        ['udp', { transport: 'udp' }, /transport/],
        ['relay', { mode: 'relay' }, /mode/],
        ['interval', { reconnectInterval: -1 }, /reconnectInterval/],
        ['frame', { maxFrame: 'lots' }, /maxFrame/],
        ['partial', { maxPartialBytes: 0 }, /maxPartialBytes/],
        ['partialText', { maxPartialBytes: 'lots' }, /maxPartialBytes/],
        ['host', { host: '   ' }, /host/],
      ];
      const flow: FlowNode[] = [TAB, catchNode('catch', 'h-catch'), helperNode('h-catch')];
      for (const [id, props] of cases) {
        flow.push(minvrConnection({ port: await freePort(), ...props }, `conn-${id}`), { ...minvrIn(`in-${id}`), connection: `conn-${id}` }, { ...minvrOut(`out-${id}`), connection: `conn-${id}` });
      }
      // A hand-edited flow may point a MinVR3 node at a realvirtual connection: that is no connection either.
      flow.push(minvrIn('orphan'), { ...minvrOut('orphan-out'), connection: 'missing' }, { ...minvrIn('wrong-type'), connection: 'rv-conn' });
      flow.push({ id: 'rv-conn', type: 'realvirtual-connection', mode: 'server', host: '127.0.0.1', port: await freePort() });
      await load(flow);
      const caught = new Inbox('h-catch');
      for (const [id, , pattern] of cases) {
        const red = await waitForStatus(node(`in-${id}`), (status) => status.fill === 'red', `red status for ${id}`);
        assert.equal(red.shape, 'ring');
        assert.match(red.text ?? '', pattern, id);
        assert.deepEqual(statuses(node(`out-${id}`)).slice(-1)[0], red);
        const errors = errorsOf(node(`conn-${id}`));
        assert.equal(errors.length, 1, `${id}: ${JSON.stringify(errors)}`);
        assert.match(errors[0], pattern);
        assert.ok(errors[0].startsWith(catalogText('minvr-connection', 'errors.invalid', { error: '' })), errors[0]);
        assert.equal((node(`conn-${id}`).connection as any).endpoint, null, `${id}: nothing was opened`);

        node(`out-${id}`).receive({ topic: 'X', payload: 1 });
        const error = await caught.find((msg) => msg.error.source.id === `out-${id}`, `the error of out-${id}`);
        assert.equal(error.error.code, 'ERR_INVALID_OPTION');
      }
      const noConnection = catalogText('minvr-connection', 'errors.no-connection');
      for (const id of ['orphan', 'orphan-out', 'wrong-type']) {
        assert.deepEqual(statuses(node(id)).slice(-1)[0], { fill: 'red', shape: 'ring', text: noConnection });
        assert.deepEqual(errorsOf(node(id)), [noConnection]);
      }
      node('orphan-out').receive({ topic: 'X', payload: 1 }); // no input handler: nothing happens
      // The runtime is still fine: a valid connection deployed next works.
      const port = await freePort();
      await deploy([TAB, minvrConnection({ port }), minvrIn('in')], 'full');
      await waitForStatus(node('in'), sameStatus(LISTENING), 'listening after the invalid flows');
    });
  });

  describe('minvr-connection: deploys', function () {
    it('server mode: "nodes" deploys of its users keep the connection and the peer\'s socket; the new filter applies; removing every user closes it and frees the port; a new user opens it again', async function () {
      const port = await freePort();
      const flow = (i: number, withOut = true): FlowNode[] => [
        TAB,
        minvrConnection({ port }),
        minvrIn('in', { events: `Round${i}, Always`, name: `in ${i}` }, ['h']),
        ...(withOut ? [minvrOut('out', { name: `out ${i}` })] : []),
        helperNode('h'),
      ];
      await load(flow(0));
      await waitForStatus(node('in'), sameStatus(LISTENING), 'listening');
      const raw = await RawTcpPeer.connect(resources, port);
      await waitForStatus(node('in'), sameStatus(peersStatus(1)), '1 peer');
      const conn = node('conn');
      const endpoint = (conn.connection as any).endpoint;
      assert.ok(endpoint);
      const listeners = { status: endpoint.listenerCount('status'), event: endpoint.listenerCount('event') };

      for (let i = 1; i <= 5; i++) {
        const previous = node('in');
        await deploy(flow(i), 'nodes');
        assert.notEqual(node('in'), previous, `deploy ${i}: the in node was restarted`);
        assert.equal(node('conn'), conn, `deploy ${i}: the connection node was kept`);
        assert.equal((conn.connection as any).endpoint, endpoint, `deploy ${i}: same endpoint`);
        assert.deepEqual({ status: endpoint.listenerCount('status'), event: endpoint.listenerCount('event') }, listeners, `deploy ${i}: endpoint listeners`);
        assert.equal(conn.connection.userCount, 2, `deploy ${i}: users`);
        assert.deepEqual(statuses(node('in'))[0], peersStatus(1), `deploy ${i}: a new node shows the current status at once`);
        assert.ok(!raw.closed, `deploy ${i}: the peer's socket was closed`);
        assert.deepEqual(endpoint.clients, [{ id: 'peer-1', name: raw.name }], `deploy ${i}: the same peer, not a new one`);
      }
      const inbox = new Inbox('h');
      raw.send(wire('Round1', ''));
      raw.send(wire('Round5', ''));
      raw.send(wire('Always', ''));
      await inbox.find((msg) => msg.topic === 'Always', 'Always');
      assert.deepEqual(
        inbox.messages.map((msg) => msg.topic),
        ['Round5', 'Always'],
        'each event once, through the last filter only',
      );
      node('out').receive({ topic: 'Still', payload: 1 });
      assert.deepEqual(await raw.next(1), [wire('Still', 'Int32', 1)]);

      // One user removed: still open. Both removed: closed, port free.
      await deploy(flow(5, false), 'nodes');
      assert.equal(conn.connection.userCount, 1);
      assert.ok(!raw.closed && (await isListening(port)), 'open while a user is left');
      await deploy([TAB, minvrConnection({ port }), helperNode('h')], 'nodes');
      assert.equal(node('conn'), conn);
      assert.equal(conn.connection.userCount, 0);
      await until(() => raw.closed, 'the peer to be disconnected');
      assert.equal(await isListening(port), false, 'the port is free');
      assert.equal((conn.connection as any).endpoint, null);

      await deploy(flow(6), 'nodes');
      await waitForStatus(node('in'), sameStatus(LISTENING), 'listening again');
      const again = await RawTcpPeer.connect(resources, port);
      const from = new Inbox('h');
      again.send(wire('Round6', 'Single', 0.5));
      const [msg] = await from.next(1);
      assert.deepEqual([msg.topic, msg.payload, msg.minvr.peer.name], ['Round6', 0.5, again.name]);
      assert.deepEqual(errorsOf(conn), []);
    });

    it('server mode: full deploys release the port before the new flow binds it; a deploy that changes the port moves the server', async function () {
      const port = await freePort();
      const flow = (i: number, on = port): FlowNode[] => [TAB, minvrConnection({ port: on, name: `deploy ${i}` }), minvrIn('in', {}, ['h']), minvrOut('out'), helperNode('h')];
      await load(flow(0));
      const connections: RedNode[] = [];
      for (let i = 0; i <= 5; i++) {
        if (i > 0) await deploy(flow(i), 'full');
        const conn = node('conn');
        assert.ok(!connections.includes(conn), `deploy ${i}: a new connection node`);
        connections.push(conn);
        await waitForStatus(node('in'), sameStatus(LISTENING), `listening after deploy ${i}`);
        const raw = await RawTcpPeer.connect(resources, port);
        const inbox = new Inbox('h');
        raw.send(wire('Round', 'Int32', i));
        const [msg] = await inbox.next(1);
        assert.deepEqual([msg.topic, msg.payload], ['Round', i]);
        assert.deepEqual(errorsOf(conn), [], `deploy ${i}: the connection reported no error (a busy port would)`);
        assert.ok(!statuses(node('in')).some((status) => status.fill === 'red'), `deploy ${i}: no red status`);
      }
      for (const old of connections.slice(0, -1)) assert.equal((old.connection as any).endpoint, null, 'a replaced connection closed its endpoint');

      const other = await freePort();
      const raw = await RawTcpPeer.connect(resources, port);
      await deploy(flow(6, other), 'nodes');
      await until(() => raw.closed, 'the peer of the old port to be disconnected');
      assert.equal(await isListening(port), false, 'the old port is free');
      await waitForStatus(node('out'), sameStatus(LISTENING), 'listening on the new port');
      const moved = await RawTcpPeer.connect(resources, other);
      await waitForStatus(node('out'), sameStatus(peersStatus(1)), '1 peer on the new port');
      node('out').receive({ topic: 'Moved', payload: true, dataType: 'none' });
      assert.deepEqual(await moved.next(1), [wire('Moved', '')]);
    });

    describe('Node-RED stopping closes within 1 s and leaves nothing open', function () {
      /** Sockets, servers and timers open now (mocha's own test timer included, so compare like with like). */
      const openHandles = (): { sockets: number; servers: number; timers: number } => {
        const counts = handleCounts();
        return { sockets: counts.TCPSocketWrap ?? 0, servers: counts.TCPServerWrap ?? 0, timers: counts.Timeout ?? 0 };
      };
      const cases: Array<[string, () => Promise<FlowNode[]>, (inNode: RedNode) => Promise<unknown>]> = [
        [
          'client mode while reconnecting (a 60 s retry pending)',
          async () => [TAB, minvrConnection({ mode: 'client', port: await freePort(), reconnectInterval: 60 }), minvrIn('in')],
          (inNode) => waitForStatus(inNode, (status) => status.fill === 'red', 'red (retrying)'),
        ],
        [
          'client mode (WebSocket) connected to a server that ignores the close handshake',
          async () => {
            const silent = resources.add(await SilentServer.start('upgrade'));
            return [TAB, minvrConnection({ transport: 'websocket', mode: 'client', port: silent.port }), minvrIn('in')];
          },
          (inNode) => waitForStatus(inNode, (status) => status.fill === 'green', 'connected'),
        ],
        [
          'server mode (TCP) with a peer that never closes its side',
          async () => [TAB, minvrConnection({ port: await freePort() }), minvrIn('in')],
          async (inNode) => {
            await waitForStatus(inNode, sameStatus(LISTENING), 'listening');
            const socket = net.connect({ port: node('conn').connection.settings.options.port, host: '127.0.0.1', allowHalfOpen: true });
            socket.on('error', () => undefined);
            resources.add({ close: () => socket.destroy() });
            await waitForStatus(inNode, sameStatus(peersStatus(1)), '1 peer');
          },
        ],
        [
          'server mode (WebSocket) with a client that ignores the close handshake',
          async () => [TAB, minvrConnection({ transport: 'websocket', port: await freePort() }), minvrIn('in')],
          async (inNode) => {
            await waitForStatus(inNode, sameStatus(LISTENING), 'listening');
            const socket = await silentClient(node('conn').connection.settings.options.port, '/vrevent');
            resources.add({ close: () => socket.destroy() });
            await waitForStatus(inNode, sameStatus(peersStatus(1)), '1 peer');
          },
        ],
      ];
      for (const [what, setUp, ready] of cases) {
        it(what, async function () {
          await new Promise((resolve) => setImmediate(resolve)); // mocha's own test timer is set by now
          const before = openHandles();
          await load(await setUp());
          await ready(node('in'));
          const started = Date.now();
          await unload();
          const took = Date.now() - started;
          assert.ok(took < 1000, `Node-RED took ${took} ms to stop`);
          await resources.closeAll();
          await until(
            () => {
              const now = openHandles();
              return now.sockets <= before.sockets && now.servers <= before.servers && now.timers <= before.timers;
            },
            () => `handles back to ${JSON.stringify(before)} (now ${JSON.stringify(openHandles())})`,
            2000,
          );
        });
      }
    });

    it('client mode: "nodes" deploys keep the one connection to our server (it sees no reconnect); removing every user disconnects', async function () {
      const { server, connects, received } = await engineServer(resources);
      const flow = (i: number): FlowNode[] => [
        TAB,
        minvrConnection({ mode: 'client', port: server.port, reconnectInterval: 0.2 }),
        minvrOut('out', { dataType: i % 2 ? 'Single' : '' }),
        minvrIn('in', { name: `in ${i}` }, ['h']),
        helperNode('h'),
      ];
      await load(flow(0));
      await until(() => server.clients.length === 1, 'the node to connect');
      await waitForStatus(node('out'), (status) => status.fill === 'green', 'connected');
      for (let i = 1; i <= 5; i++) {
        await deploy(flow(i), 'nodes');
        node('out').receive({ topic: `Deploy${i}`, payload: 1 });
      }
      await until(
        () => received.length === 5,
        () => `5 events at our server (got ${JSON.stringify(received)})`,
      );
      assert.deepEqual(
        received.map((r) => [r.event.name, r.event.type, r.peer.id]),
        [1, 2, 3, 4, 5].map((i) => [`Deploy${i}`, i % 2 ? 'Single' : 'Int32', 'peer-1']),
      );
      assert.equal(connects.length, 1, `the server saw reconnects: ${JSON.stringify(connects)}`);
      const inbox = new Inbox('h');
      server.send({ name: 'Hello', type: '' });
      const [msg] = await inbox.next(1);
      assert.equal(msg.topic, 'Hello');

      await deploy([TAB, minvrConnection({ mode: 'client', port: server.port, reconnectInterval: 0.2 })], 'nodes');
      await until(() => server.clients.length === 0, 'the node to disconnect');
      await new Promise((resolve) => setTimeout(resolve, 500)); // several reconnect intervals
      assert.equal(connects.length, 1, 'it did not reconnect');
    });
  });
});
