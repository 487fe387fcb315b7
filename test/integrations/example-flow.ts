/**
 * What the integration tests share: an example flow from examples/ loaded into the Node-RED
 * runtime with the core nodes it uses and the node packages it needs (devDependencies, found
 * by their package.json "node-red" section), its realvirtual connection pointed at a running
 * realvirtual-sim, and the checks every example must pass.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, helper, load, node, RedNode, waitForStatus } from '../nodes/harness';

/** The node types that a node package registers, and its modules. */
function packageNodes(name: string): { types: Set<string>; modules: Array<(RED: any) => unknown> } {
  const manifest = require.resolve(`${name}/package.json`);
  const nodes = (JSON.parse(fs.readFileSync(manifest, 'utf8'))['node-red']?.nodes ?? {}) as Record<string, string>;
  const types = new Set<string>();
  const modules: Array<(RED: any) => unknown> = [];
  for (const file of Object.values(nodes)) {
    const full = path.join(path.dirname(manifest), file);
    for (const match of fs.readFileSync(full, 'utf8').matchAll(/registerType\(\s*["']([^"']+)["']/g)) types.add(match[1]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    modules.push(require(full) as (RED: any) => unknown);
  }
  return { types, modules };
}

export function readExample(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(repoRoot(), 'examples', file), 'utf8')) as FlowNode[];
}

/**
 * Loads `flow` with the runtime's core nodes and those of `packages`, its realvirtual
 * connections pointed at 127.0.0.1:`simPort`; resolves once every realvirtual node is connected.
 * `credentials`: node id → credentials, entered in the editor by a user.
 */
export async function loadExample(
  flow: FlowNode[],
  simPort: number,
  packages: string[],
  credentials: Record<string, Record<string, string>> = {},
  settings: Record<string, unknown> = {},
): Promise<void> {
  const packaged = packages.map(packageNodes);
  const types = new Set(flow.map((n) => n.type).filter((type) => !packaged.some((p) => p.types.has(type))));
  for (const n of flow) {
    if (n.type === 'realvirtual-connection') {
      assert.equal(n.mode, 'client');
      assert.equal(n.host, '127.0.0.1');
      n.port = simPort;
    }
  }
  await load(flow, settings, [...coreModules(types), ...packaged.flatMap((p) => p.modules)], credentials);
  for (const n of flow.filter((n) => /^realvirtual-(in|out)$/.test(n.type))) {
    await waitForStatus(node(n.id), (status) => status.fill === 'green', `${n.type} connected to the simulator`, 0, 8000);
  }
}

/** Every node.error of the flow's nodes, as "<type> <id>: <message>". */
export function errorsIn(flow: FlowNode[]): string[] {
  const nodes = flow
    .filter((n) => n.type !== 'tab')
    .map((n) => helper.getNode(n.id))
    .filter((n): n is RedNode => n !== null);
  return nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`));
}

/** Presses an inject node of the flow (as its button in the editor does). */
export function press(id: string): void {
  node(id).receive({});
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
