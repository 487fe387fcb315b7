/**
 * node-red-node-test-helper around the compiled nodes (dist/nodes), with bounded
 * waits for messages and statuses, real deploys through the runtime, and cleanup.
 *
 * The runtime is the one at NODE_RED_PATH (so that CI can run these tests against
 * another Node-RED version), else the node-red devDependency. Nothing else here
 * imports 'node-red'.
 */
import { EventEmitter } from 'events';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort, Resources, waits } from '../helpers/events';
import { repoRoot } from '../repo';

export { freePort };

/** Bound of every single wait, in ms (sockets on 127.0.0.1 answer in milliseconds). */
export const WAIT_MS = 5000;

const runtimePath = require.resolve(process.env.NODE_RED_PATH || 'node-red');

export type FlowNode = { id: string; type: string; [key: string]: unknown };
export type Msg = { payload?: any; topic?: any; rv?: any; error?: any; [key: string]: any };
export type DeployType = 'full' | 'flows' | 'nodes';

interface SpyCall {
  thisValue: unknown;
  args: any[];
}
interface Spy {
  getCalls(): SpyCall[];
}

/** A node as the runtime created it; status/error/warn are the helper's sinon spies. */
export interface RedNode extends EventEmitter {
  id: string;
  type: string;
  receive(msg: Msg): void;
  status: Spy;
  error: Spy;
  warn: Spy;
  send: Spy;
  [key: string]: any;
}

export interface HttpAnswer {
  status: number;
  body: any;
}

interface TestHelper {
  init(runtimePath: string): void;
  settings(settings?: Record<string, unknown>): Record<string, unknown>;
  load(nodes: Array<(RED: any) => unknown>, flow: FlowNode[], credentials?: Record<string, Record<string, string>>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): RedNode | null;
  /** supertest against the admin app (which parses JSON bodies). */
  request(): { get(path: string): PromiseLike<HttpAnswer>; post(path: string): { send(body: unknown): PromiseLike<HttpAnswer> } };
  _redNodes: { setFlows(flow: FlowNode[], credentials: object, type: DeployType): Promise<unknown> };
  _events: EventEmitter;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper: TestHelper = require('node-red-node-test-helper');
helper.init(runtimePath);

const PACKAGE = 'node-red-contrib-realvirtual';
export const NODE_TYPES = ['realvirtual-connection', 'realvirtual-in', 'realvirtual-out', 'realvirtual-import', 'realvirtual-config', 'minvr-connection', 'minvr-in', 'minvr-out'];
export const nodesDir = path.join(repoRoot(), 'dist', 'nodes');

/*
 * The helper hands every module one RED whose `_` returns the key. The runtime gives
 * each module its own RED whose `_` looks the key up in the module's namespace
 * ("<package>/<type>", catalog locales/<lang>/<type>.json beside the .js): so do we,
 * with the runtime's own i18n, so that statuses and errors read as users see them.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { i18n } = require(require.resolve('@node-red/util', { paths: [path.dirname(runtimePath)] }));
let catalogs: Promise<unknown> | null = null;

const modules = NODE_TYPES.map((type) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const register = require(path.join(nodesDir, `${type}.js`)) as (RED: any) => unknown;
  const namespace = `${PACKAGE}/${type}`;
  return (RED: any): unknown => {
    const own = Object.create(RED);
    own._ = (key: string, substitutions?: object) => i18n._(key.includes(':') ? key : `${namespace}:${key}`, substitutions);
    return register(own);
  };
});

/** The helper registers these core types itself when a flow holds them. */
const HELPER_CORE_TYPES = new Set(['catch', 'status', 'complete']);

/**
 * The node packages among our devDependencies (node-red-contrib-modbus, …): node type → the
 * .js file that registers it, found from each package's `node-red.nodes`.
 */
function devDependencyNodeFiles(): Map<string, string> {
  const byType = new Map<string, string>();
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  for (const name of Object.keys(manifest.devDependencies ?? {})) {
    const dir = path.join(repoRoot(), 'node_modules', name);
    const packageFile = path.join(dir, 'package.json');
    if (name === 'node-red' || !fs.existsSync(packageFile)) continue;
    const nodes = (JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { 'node-red'?: { nodes?: Record<string, string> } })['node-red']?.nodes ?? {};
    for (const file of Object.values(nodes).map((relative) => path.join(dir, relative))) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/registerType\(\s*["']([^"']+)["']/g)) byType.set(match[1], file);
    }
  }
  return byType;
}

let configHome: string | null = null;

/**
 * Node packages that keep files in the user's configuration folder (node-red-contrib-opcua
 * and node-opcua create their PKI there, found through XDG_CONFIG_HOME when they are first
 * loaded) keep them in a temporary folder of this process, removed when it exits.
 */
function privateConfigHome(): void {
  if (configHome) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-config-home-'));
  configHome = dir;
  process.env.XDG_CONFIG_HOME = dir;
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

/**
 * The runtime's own modules for core node types (inject, debug, function, mqtt…),
 * found by the types their .js files register in @node-red/nodes/core, and those of the
 * node packages among our devDependencies (Modbus, OPC UA) for the examples that use them.
 */
export function coreModules(types: Iterable<string>): Array<(RED: any) => unknown> {
  const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(runtimePath)] })), 'core');
  const byType = new Map<string, string>();
  for (const category of fs.readdirSync(coreDir)) {
    const dir = path.join(coreDir, category);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of fs.readdirSync(dir).filter((name) => name.endsWith('.js'))) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const match of source.matchAll(/registerType\(\s*["']([^"']+)["']/g)) byType.set(match[1], path.join(dir, file));
    }
  }
  const files = new Set<string>();
  let contributed: Map<string, string> | null = null;
  const usesContributed = [...types].some((type) => type !== 'tab' && type !== 'helper' && !HELPER_CORE_TYPES.has(type) && !NODE_TYPES.includes(type) && !byType.has(type));
  if (usesContributed) privateConfigHome();
  for (const type of types) {
    if (type === 'tab' || type === 'helper' || HELPER_CORE_TYPES.has(type) || NODE_TYPES.includes(type)) continue;
    if (!byType.has(type)) contributed = contributed ?? devDependencyNodeFiles();
    const file = byType.get(type) ?? contributed?.get(type);
    if (!file) throw new Error(`no core module of Node-RED (nor a node package among the devDependencies) registers the node type ${JSON.stringify(type)}`);
    files.add(file);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return [...files].map((file) => require(file) as (RED: any) => unknown);
}

/** Loads `flow` with the package's node types (helper, catch and complete nodes come with the helper) and `extra` modules. */
/** `credentials`: node id → that node's credentials (e.g. a connection's secret), stored apart from the flow as Node-RED does. */
export async function load(
  flow: FlowNode[],
  settings: Record<string, unknown> = {},
  extra: Array<(RED: any) => unknown> = [],
  credentials: Record<string, Record<string, string>> = {},
): Promise<void> {
  if (!catalogs) {
    i18n.init({ lang: 'en-US' });
    catalogs = Promise.all(NODE_TYPES.map((type) => i18n.registerMessageCatalog(`${PACKAGE}/${type}`, path.join(nodesDir, 'locales'), `${type}.json`)));
  }
  await within(catalogs, 'loading the message catalogs');
  helper.settings({ userDir: undefined, ...settings });
  await within(helper.load([...modules, ...extra], flow, credentials), 'loading the flow');
}

/** Stops the flows (closing every node) and clears the registry. Safe to call when nothing is loaded. */
export async function unload(): Promise<void> {
  await within(helper.unload(), 'stopping the flows', 10000);
  helper.settings({ userDir: undefined });
}

/**
 * For a describe block: what its tests open (servers, clients) goes into the returned
 * Resources; after each test the flows are stopped first, then those are closed.
 */
export function runtimeResources(): Resources {
  const resources = new Resources();
  afterEach(async function () {
    await unload();
    await resources.closeAll();
  });
  return resources;
}

/**
 * Deploys `flow` through the runtime's flows API, as the editor's Deploy button does
 * ("full", "flows" = modified flows, "nodes" = modified nodes), and resolves once the
 * runtime reports the flows started. (The helper's own setFlows starts listening for
 * that event only after the deploy returned, and gives it 300 ms.)
 */
export async function deploy(flow: FlowNode[], type: DeployType): Promise<void> {
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
    helper._events.once('flows:started', onStarted);
  });
  try {
    await within(helper._redNodes.setFlows(flow, {}, type), `a "${type}" deploy to stop the old nodes`);
    await within(started, `the flows to start after a "${type}" deploy`);
  } finally {
    helper._events.removeListener('flows:started', onStarted);
  }
}

export function node(id: string): RedNode {
  const found = helper.getNode(id);
  if (!found) throw new Error(`no node with id ${JSON.stringify(id)} is running`);
  return found;
}

/** Rejects with `what` if `promise` has not settled within `timeoutMs`. */
/** The names of the peers connected to a deployed realvirtual-connection's endpoint, sorted. */
export function clientNames(connectionId: string): string[] {
  return ((node(connectionId).connection as any).endpoint.clients as Array<{ name: string }>).map((peer) => peer.name).sort();
}

/** within() and until() of helpers/events.ts, bounded by the Node-RED tests' WAIT_MS. */
export const { within, until } = waits(WAIT_MS);

/** Every message a node (usually a helper node) receives from now on. */
export class Inbox {
  readonly messages: Msg[] = [];

  constructor(readonly id: string) {
    node(id).on('input', (msg: Msg) => this.messages.push(msg));
  }

  /** The index the next message will have: pass it as `from`. */
  mark(): number {
    return this.messages.length;
  }

  /** Waits until `count` messages arrived at index >= `from`; resolves with those. */
  async next(count = 1, from = 0, timeoutMs = WAIT_MS): Promise<Msg[]> {
    await until(
      () => this.messages.length - from >= count,
      () => `${count} message(s) at ${this.id} (got ${this.describe(from)})`,
      timeoutMs,
    );
    return this.messages.slice(from, from + count);
  }

  /** The first message at index >= `from` that passes `predicate`. */
  find(predicate: (msg: Msg) => boolean, what: string, from = 0, timeoutMs = WAIT_MS): Promise<Msg> {
    return until(
      () => this.messages.slice(from).find(predicate),
      () => `${what} at ${this.id} (got ${this.describe(from)})`,
      timeoutMs,
    );
  }

  describe(from = 0): string {
    const shown = this.messages.slice(from).map((msg) => JSON.stringify({ topic: msg.topic, payload: msg.payload, rv: msg.rv, error: msg.error?.message }));
    const text = shown.join(' ');
    return shown.length === 0 ? 'none' : text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
  }
}

export interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

function callsOf(target: RedNode, spy: Spy): any[][] {
  return spy
    .getCalls()
    .filter((call) => call.thisValue === target)
    .map((call) => call.args);
}

/** Every status the node has set since it was created (the helper spies on Node.prototype.status). */
export function statuses(target: RedNode): Status[] {
  return callsOf(target, target.status).map((args) => args[0] as Status);
}

/** Resolves with the first status set at index >= `from` (0 = since the node was created) that passes `predicate`. */
export function waitForStatus(target: RedNode, predicate: (status: Status) => boolean, what: string, from = 0, timeoutMs = WAIT_MS): Promise<Status> {
  return until(
    () =>
      statuses(target)
        .slice(from)
        .find((status) => status && predicate(status)),
    () => `status ${what} on ${target.type} ${target.id} (statuses: ${JSON.stringify(statuses(target).slice(from))})`,
    timeoutMs,
  );
}

/** Every message the node sent so far (the helper spies on Node.prototype.send). */
export function sentBy(target: RedNode): unknown[] {
  return callsOf(target, target.send).map((args) => args[0]);
}

/** The first argument of every node.error call of the node, as text. */
export function errorsOf(target: RedNode): string[] {
  return callsOf(target, target.error).map((args) => (args[0] instanceof Error ? args[0].message : String(args[0])));
}

/** A fresh temporary directory (a Node-RED user directory); remove it with removeDir. */
export function tempDir(prefix = 'rv-nodes-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string | null): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/*
 * Flow building blocks: one tab "f1", a connection "conn" and nodes that use it.
 * Flow nodes need x and y: the runtime takes a node without them for a config node.
 */

export const TAB: FlowNode = { id: 'f1', type: 'tab', label: 'realvirtual tests' };

export function connection(props: Record<string, unknown>, id = 'conn'): FlowNode {
  return { id, type: 'realvirtual-connection', ...props };
}

/** A realvirtual-in/out/import/config node on conn, wired to `to` (node ids). */
export function user(type: 'in' | 'out' | 'import' | 'config', id: string, props: Record<string, unknown> = {}, to: string[] = []): FlowNode {
  return { id, z: 'f1', type: `realvirtual-${type}`, x: 0, y: 0, connection: 'conn', ...props, wires: type === 'out' ? [] : [to] };
}

export function helperNode(id: string): FlowNode {
  return { id, z: 'f1', type: 'helper', x: 0, y: 0, wires: [] };
}

/** A Catch node for every node of the flow, wired to `to`. */
export function catchNode(id: string, to: string): FlowNode {
  return { id, z: 'f1', type: 'catch', x: 0, y: 0, scope: null, uncaught: false, wires: [[to]] };
}

/** A Complete node for the nodes `scope`, wired to `to`: it fires when they call done(). */
export function completeNode(id: string, scope: string[], to: string): FlowNode {
  return { id, z: 'f1', type: 'complete', x: 0, y: 0, scope, uncaught: false, wires: [[to]] };
}
