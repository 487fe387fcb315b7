/**
 * The examples for VR apps, end to end in the Node-RED runtime with their ports moved to
 * free ones on 127.0.0.1:
 *
 * - examples/minvr-realvirtual-bridge.json: a raw TCP client speaking MinVR3's TCP JSON
 *   format (4-byte little-endian length + JSON, as Unity's TcpJsonVREventConnection) plays
 *   the MinVR3 app; our RealvirtualClient plays realvirtual.
 * - examples/tcp-text-positions.json: the client of the tutorial "Virtual reality
 *   communication using Python sockets" (../shared/reference/vr-communication-python-sockets.md,
 *   skipped when absent), run with python3, plays the VR app; a raw TCP client checks what
 *   the tutorial's client does not (several messages in one piece, one split across two).
 */
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { RealvirtualClient, SignalRecord } from '../../engine';
import { delay, Resources } from '../helpers/events';
import { findPython, PythonPeer, substituteOnce } from '../interop/python';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, freePort, helper, load, node, RedNode, unload, until, waitForStatus, within } from './harness';

const examplesDir = path.join(repoRoot(), 'examples');

/** The tutorial's expected place, beside the repository: ../shared/reference/. */
const TUTORIAL = path.resolve(repoRoot(), '..', 'shared', 'reference', 'vr-communication-python-sockets.md');

/** Bound of the waits here (everything happens on 127.0.0.1 in well under a second; python3 starts in a fraction of one). */
const WAIT_MS = 8000;

/** What listens on a port in the examples: each moves to a free port. */
const LISTENERS: Record<string, string> = { 'realvirtual-connection': 'rv', 'minvr-connection': 'minvr', 'tcp in': 'tcp' };

/** Loads an example with every listening port moved to a free one; resolves once its realvirtual and MinVR3 nodes are up. */
async function loadExample(file: string): Promise<{ flow: FlowNode[]; ports: Record<string, number> }> {
  const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[];
  const ports: Record<string, number> = {};
  for (const n of flow) {
    const kind = LISTENERS[n.type];
    if (!kind) continue;
    assert.equal(ports[kind], undefined, `${file}: one ${n.type} expected`);
    ports[kind] = await freePort();
    n.port = typeof n.port === 'string' ? String(ports[kind]) : ports[kind];
  }
  await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
  for (const n of flow.filter((n) => /^(realvirtual|minvr)-(in|out)$/.test(n.type))) {
    await waitForStatus(node(n.id), (status) => status.fill === 'green', `${n.type} up`, 0, WAIT_MS);
  }
  return { flow, ports };
}

function errorsIn(flow: FlowNode[]): string[] {
  const nodes = flow
    .filter((n) => n.type !== 'tab')
    .map((n) => helper.getNode(n.id))
    .filter((n): n is RedNode => n !== null);
  return nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`));
}

function only(flow: FlowNode[], type: string): FlowNode {
  const found = flow.filter((n) => n.type === type);
  assert.equal(found.length, 1, `one ${type} expected in the example`);
  return found[0];
}

function pick(values: SignalRecord, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, values[name]]));
}

/** Connects to 127.0.0.1:`port`, retrying while it is refused (a server node listens shortly after it starts). */
async function connectTcp(port: number): Promise<net.Socket> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`cannot connect to 127.0.0.1:${port}: ${(error as Error).message}`, { cause: error });
      await delay(20);
    }
  }
}

function closeSocket(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

interface WireEvent {
  m_Name: string;
  m_DataTypeName: string;
  m_Data?: unknown;
}

/** A MinVR3 app as Unity's TcpJsonVREventConnection (client side) is one on the wire: length-prefixed ASCII JSON frames. */
class RawMinVRApp {
  readonly received: WireEvent[] = [];
  private pending = Buffer.alloc(0);

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 4) {
        const length = this.pending.readUInt32LE(0);
        if (this.pending.length < 4 + length) break;
        this.received.push(JSON.parse(this.pending.subarray(4, 4 + length).toString('ascii')) as WireEvent);
        this.pending = this.pending.subarray(4 + length);
      }
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawMinVRApp> {
    return new RawMinVRApp(await connectTcp(port));
  }

  send(event: WireEvent): void {
    const json = Buffer.from(JSON.stringify(event), 'ascii');
    const header = Buffer.alloc(4);
    header.writeUInt32LE(json.length, 0);
    this.socket.write(Buffer.concat([header, json]));
  }

  close(): Promise<void> {
    return closeSocket(this.socket);
  }
}

/** A TCP client that records the text it receives. */
class TextClient {
  text = '';

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.text += chunk));
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<TextClient> {
    return new TextClient(await connectTcp(port));
  }

  /** Sends `text` and waits for the reply to it (the example answers each piece with "OK"). */
  async send(text: string): Promise<void> {
    const replies = this.replies();
    this.socket.write(text);
    await until(
      () => this.replies() > replies,
      () => `a reply to ${JSON.stringify(text)} (received ${JSON.stringify(this.text)})`,
      WAIT_MS,
    );
  }

  replies(): number {
    return this.text.split('OK').length - 1;
  }

  close(): Promise<void> {
    return closeSocket(this.socket);
  }
}

/** The first ```python block after the markdown heading `heading`, exactly as written (every line with its newline). */
function pythonBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`the tutorial has no heading "${heading}"`);
  const fence = '\n```python\n';
  const open = markdown.indexOf(fence, at);
  if (open < 0) throw new Error(`the tutorial has no \`\`\`python block after "${heading}"`);
  const start = open + fence.length;
  const close = markdown.indexOf('\n```\n', start);
  if (close < 0) throw new Error(`the python block after "${heading}" is not closed`);
  return markdown.slice(start, close + 1);
}

function onlyLine(block: string, prefix: string, what: string): string {
  const lines = block.split('\n').filter((line) => line.startsWith(prefix));
  if (lines.length !== 1) throw new Error(`${what}: expected one line starting with ${JSON.stringify(prefix)}, found ${lines.length}`);
  return lines[0];
}

/**
 * The tutorial's client program, its code lines kept verbatim but for two: the PORT line
 * (the example's port moved to a free one) and the client's `sendall` line, which becomes
 * the `sendall` line of "Sending VR Data" with real numbers for its placeholder `(x, y, z)`.
 * So the program is the tutorial's client sending a position instead of 'Hello from VR client'.
 */
function tutorialClient(markdown: string, port: number, position: string): { source: string; original: string } {
  const original = pythonBlockAfter(markdown, '## Creating a Virtual Reality Client');
  const clientSend = onlyLine(original, 'client_socket.sendall(', 'the client block');
  const dataSend = onlyLine(pythonBlockAfter(markdown, '## Sending VR Data'), 'client_socket.sendall(', 'the "Sending VR Data" block');
  let source = substituteOnce(original, 'PORT = 5000\n', `PORT = ${port}\n`, "the tutorial client's port");
  source = substituteOnce(source, `${clientSend}\n`, `${substituteOnce(dataSend, '(x, y, z)', position, 'the position placeholder')}\n`, "the tutorial client's sendall");
  return { source, original };
}

describe('nodes: VR examples end to end (MinVR3 bridge, raw TCP text)', function () {
  this.timeout(30000);
  const resources = new Resources();
  const pythons: PythonPeer[] = [];
  const tempDirs: string[] = [];

  afterEach(async function () {
    for (const python of pythons.splice(0)) await python.stop();
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    await unload();
    await resources.closeAll();
  });

  describe('minvr-realvirtual-bridge.json', function () {
    it('a MinVR3 Tracker/Head/Position sets HeadX/Y/Z; realvirtual ButtonPressed true/false sends Realvirtual/Button/Down/Up, once per change', async function () {
      const { flow, ports } = await loadExample('minvr-realvirtual-bridge.json');
      const minvr = only(flow, 'minvr-connection');
      assert.deepEqual([minvr.transport, minvr.mode, minvr.host], ['tcp', 'server', '127.0.0.1']);

      const unity = resources.add(
        new RealvirtualClient({
          port: ports.rv,
          clientName: 'Unity',
          autoReconnect: false,
          subscribe: ['HeadX', 'HeadY', 'HeadZ'],
          signals: [{ name: 'ButtonPressed', type: 'Bool', direction: 'write', value: false }],
        }),
      );
      await within(unity.connect(), 'the realvirtual client to connect', WAIT_MS);
      const app = resources.add(await RawMinVRApp.connect(ports.minvr));
      const out = node(only(flow, 'minvr-out').id);
      await waitForStatus(out, (status) => status.fill === 'green' && status.shape === 'dot', 'one MinVR3 peer', 0, WAIT_MS);

      // Besides the tracker, an unfiltered Unity sender streams MinVR3/DeltaTime and other
      // tracker data: only Tracker/*/Position events drive signals. Floats as Unity writes them.
      app.send({ m_Name: 'MinVR3/DeltaTime', m_DataTypeName: 'Single', m_Data: 0.011111111380159855 });
      app.send({ m_Name: 'Tracker/Head/Rotation', m_DataTypeName: 'Quaternion', m_Data: { x: 0.0, y: 0.7071067690849304, z: 0.0, w: 0.7071067690849304 } });
      app.send({ m_Name: 'Tracker/Head/Position', m_DataTypeName: 'Vector3', m_Data: { x: 0.10000000149011612, y: 1.600000023841858, z: -0.30000001192092896 } });
      const head = { HeadX: 0.10000000149011612, HeadY: 1.600000023841858, HeadZ: -0.30000001192092896 };
      await until(
        () => unity.values().HeadZ === head.HeadZ,
        () => `HeadX/Y/Z in realvirtual (got ${JSON.stringify(unity.values())})`,
        WAIT_MS,
      );
      assert.deepEqual(pick(unity.values(), ['HeadX', 'HeadY', 'HeadZ']), head);

      // A later position replaces the earlier one.
      app.send({ m_Name: 'Tracker/Head/Position', m_DataTypeName: 'Vector3', m_Data: { x: -1.5, y: 2, z: 0.25 } });
      await until(
        () => unity.values().HeadX === -1.5,
        () => `HeadX -1.5 (got ${JSON.stringify(unity.values())})`,
        WAIT_MS,
      );
      assert.deepEqual(pick(unity.values(), ['HeadX', 'HeadY', 'HeadZ']), { HeadX: -1.5, HeadY: 2, HeadZ: 0.25 });

      // realvirtual reported ButtonPressed = false when it connected: the button starts up, so nothing was sent.
      await delay(200);
      assert.equal(app.received.length, 0, `no MinVR3 event before ButtonPressed changes (got ${JSON.stringify(app.received)})`);

      unity.write('ButtonPressed', true);
      await until(() => app.received.length >= 1, 'Realvirtual/Button/Down at the MinVR3 app', WAIT_MS);
      unity.write('ButtonPressed', false);
      await until(
        () => app.received.length >= 2,
        () => `Realvirtual/Button/Up at the MinVR3 app (got ${JSON.stringify(app.received)})`,
        WAIT_MS,
      );
      unity.write('ButtonPressed', true);
      await until(
        () => app.received.length >= 3,
        () => `Realvirtual/Button/Down again (got ${JSON.stringify(app.received)})`,
        WAIT_MS,
      );
      await delay(200);
      // MinVR3 button events carry no data: type "" and m_Data absent (or null).
      assert.deepEqual(
        app.received.map((event) => [event.m_Name, event.m_DataTypeName, event.m_Data ?? null]),
        [
          ['Realvirtual/Button/Down', '', null],
          ['Realvirtual/Button/Up', '', null],
          ['Realvirtual/Button/Down', '', null],
        ],
      );
      assert.deepEqual(errorsIn(flow), []);
    });
  });

  describe('tcp-text-positions.json', function () {
    if (!fs.existsSync(TUTORIAL)) {
      it.skip(`the tutorial's Python client sets PosX/PosY/PosZ and gets a reply (SKIPPED: tutorial markdown not found at ${path.relative(repoRoot(), TUTORIAL)})`);
    } else {
      it("the tutorial's Python client, sending a position, sets PosX/PosY/PosZ and gets a reply", async function () {
        const python = findPython();
        const check = spawnSync(python, ['-c', 'import socket'], { encoding: 'utf8', timeout: 10000 });
        if (check.error || check.status !== 0) throw new Error(`this test needs python3 (${python}): ${check.error ? check.error.message : check.stderr.trim()}`);

        const { flow, ports } = await loadExample('tcp-text-positions.json');
        assert.equal(only(flow, 'tcp in').port, String(ports.tcp));
        const unity = resources.add(new RealvirtualClient({ port: ports.rv, clientName: 'Unity', autoReconnect: false, subscribe: ['PosX', 'PosY', 'PosZ'] }));
        await within(unity.connect(), 'the realvirtual client to connect', WAIT_MS);
        // tcp in has no status for "listening": wait until it accepts a connection.
        await closeSocket(await connectTcp(ports.tcp));

        const { source, original } = tutorialClient(fs.readFileSync(TUTORIAL, 'utf8'), ports.tcp, '(1.5, -2, 3e-1)');
        // Only the port and the data sent differ from the tutorial's client.
        const before = original.split('\n');
        const after = source.split('\n');
        assert.equal(after.length, before.length);
        assert.deepEqual(
          before.map((line, i) => [line, after[i]]).filter(([a, b]) => a !== b),
          [
            ['PORT = 5000', `PORT = ${ports.tcp}`],
            ["client_socket.sendall(b'Hello from VR client')", "client_socket.sendall(b'Position: (1.5, -2, 3e-1)')"],
          ],
        );
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-tutorial-client-'));
        tempDirs.push(dir);
        const script = path.join(dir, 'vr_client.py');
        fs.writeFileSync(script, source);
        const client = PythonPeer.run(script, [], "the tutorial's client", python);
        pythons.push(client);

        await until(
          () => unity.values().PosZ === 0.3,
          () => `PosX/PosY/PosZ in realvirtual (got ${JSON.stringify(unity.values())}); the client's output:\n${client.transcript()}`,
          WAIT_MS,
        );
        assert.deepEqual(pick(unity.values(), ['PosX', 'PosY', 'PosZ']), { PosX: 1.5, PosY: -2, PosZ: 0.3 });
        // Its recv(1024) got the reply, so it closed and ended.
        const exit = await client.waitForExit(WAIT_MS);
        assert.deepEqual(exit, { code: 0, signal: null }, `the client's output:\n${client.transcript()}`);
        assert.deepEqual(client.stdoutLines(), ['Connected to VR server', 'Received data: OK']);
        assert.deepEqual(errorsIn(flow), []);
      });
    }

    it('reads every position of a piece of text, keeps one split across pieces, ignores other text and answers each piece', async function () {
      const { flow, ports } = await loadExample('tcp-text-positions.json');
      const unity = resources.add(new RealvirtualClient({ port: ports.rv, clientName: 'Unity', autoReconnect: false, subscribe: ['PosX', 'PosY', 'PosZ'] }));
      await within(unity.connect(), 'the realvirtual client to connect', WAIT_MS);
      const app = resources.add(await TextClient.connect(ports.tcp));
      const position = (): Record<string, unknown> => pick(unity.values(), ['PosX', 'PosY', 'PosZ']);

      // The declared starting values; text without a position (the tutorial's greeting, its placeholder) changes nothing.
      await until(
        () => unity.values().PosX !== undefined,
        () => `the declared values (got ${JSON.stringify(unity.values())})`,
        WAIT_MS,
      );
      await app.send('Hello from VR clientPosition: (x, y, z)');
      await delay(200);
      assert.deepEqual(position(), { PosX: 0, PosY: 0, PosZ: 0 });

      // Two messages in one piece: the last one wins.
      await app.send('Position: (1, 2, 3)Position: (4, +5.5, -6E2)');
      await until(
        () => unity.values().PosZ === -600,
        () => `the second position (got ${JSON.stringify(position())})`,
        WAIT_MS,
      );
      assert.deepEqual(position(), { PosX: 4, PosY: 5.5, PosZ: -600 });

      // One message in two pieces: each piece is answered; the position counts once complete.
      await app.send('Position: (7, ');
      await delay(100);
      assert.deepEqual(position(), { PosX: 4, PosY: 5.5, PosZ: -600 });
      await app.send('8, .9)');
      await until(
        () => unity.values().PosX === 7,
        () => `the split position (got ${JSON.stringify(position())})`,
        WAIT_MS,
      );
      assert.deepEqual(position(), { PosX: 7, PosY: 8, PosZ: 0.9 });
      assert.equal(app.replies(), 4);
      assert.deepEqual(errorsIn(flow), []);
    });
  });
});
