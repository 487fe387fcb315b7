/**
 * Every example flow in examples/ deploys into the runtime, with the core nodes it
 * uses (inject, debug, function, mqtt…), and runs without an error. Ports are moved to
 * free ones; a client-mode connection with no server in its own flow gets our engine
 * as its server.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { RealvirtualServer } from '../../engine';
import { Resources } from '../helpers/events';
import { repoRoot } from '../repo';
import { coreModules, errorsOf, FlowNode, freePort, helper, load, node, RedNode, sentBy, unload, until, waitForStatus, within } from './harness';

const examplesDir = path.join(repoRoot(), 'examples');
const exampleFiles = fs.existsSync(examplesDir) ? fs.readdirSync(examplesDir).filter((file) => file.endsWith('.json')).sort() : [];

const USER_TYPES = new Set(['realvirtual-in', 'realvirtual-out', 'realvirtual-import', 'realvirtual-config']);

describe('nodes: example flows', function () {
  const resources = new Resources();

  afterEach(async function () {
    await unload();
    await resources.closeAll();
  });

  if (exampleFiles.length === 0) {
    it.skip('deploys every example flow (SKIPPED: no examples/*.json)');
    return;
  }

  for (const file of exampleFiles) {
    it(`${file} deploys and runs without an error`, async function () {
      this.timeout(20000);
      const flow = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[];
      assert.ok(Array.isArray(flow) && flow.length > 0, `${file} is not a flow (an array of nodes)`);

      // No fixed ports: every distinct port of the flow's connections and brokers moves to a free one.
      const ports = new Map<string, number>();
      for (const n of flow) {
        if (n.type !== 'realvirtual-connection' && n.type !== 'mqtt-broker') continue;
        const key = `${n.type === 'mqtt-broker' ? 'mqtt' : 'rv'}:${n.port}`;
        if (!ports.has(key)) ports.set(key, await freePort());
        n.port = n.type === 'mqtt-broker' ? String(ports.get(key)) : ports.get(key);
      }
      const connections = flow.filter((n) => n.type === 'realvirtual-connection');
      for (const client of connections.filter((n) => n.mode === 'client')) {
        const served = connections.some((n) => n.mode !== 'client' && n.port === client.port);
        if (served) continue;
        const server = resources.add(new RealvirtualServer({ port: client.port as number, signals: [{ name: 'Example', type: 'Int', direction: 'write', value: 1 }] }));
        await within(server.listen(), `a server for ${client.id}`);
      }

      await load(flow, {}, coreModules(new Set(flow.map((n) => n.type))));
      const ids = flow.filter((n) => n.type !== 'tab').map((n) => n.id);
      const running = ids.map((id) => helper.getNode(id));
      assert.deepEqual(
        ids.filter((_id, i) => running[i] === null),
        [],
        'nodes that did not start',
      );
      const nodes = running as RedNode[];

      // Every realvirtual node shows its connection up: listening, or connected to its server.
      for (const user of nodes.filter((n) => USER_TYPES.has(n.type))) {
        await waitForStatus(user, (status) => status.fill === 'green', 'green (listening or connected)', 0, 8000);
      }
      // Injects that fire once on deploy have fired (and their messages travelled on).
      for (const inject of flow.filter((n) => n.type === 'inject' && n.once === true)) {
        await until(() => sentBy(node(inject.id)).length > 0, `inject ${inject.id} to fire once`, 8000);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));

      const errors = nodes.flatMap((n) => errorsOf(n).map((error) => `${n.type} ${n.id}: ${error}`));
      assert.deepEqual(errors, [], 'errors reported by the example\'s nodes');
    });
  }
});
