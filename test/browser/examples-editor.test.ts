/**
 * Shipped examples and flows of earlier versions are valid in the real editor, in Debian's
 * Chromium against a real Node-RED 4.1 (the devDependency, this Node.js) and Node-RED 5 (under
 * Node.js 22, installed into .nr5/ on first use, see scripts/nr5.js). Each examples/*.json and the
 * first-contract flow (./first-contract-flow) is imported through the editor's Import dialog, as a
 * user pastes it; then no node may be flagged invalid by the editor's own validation, and Deploy
 * must deploy at once (no "not properly configured", "unknown" or "unused config" question) to a
 * runtime that then holds every imported node. Only the ports are moved to free ones, so that the
 * deployed servers do not take fixed ports of this machine.
 *
 * Not part of the default `npx mocha` run: `npm run test:browser` (needs the apt package
 * chromium; no browser is ever downloaded).
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { freePort } from '../helpers/events';
import { repoRoot } from '../repo';
import { FIRST_CONTRACT_FLOW, FlowNode } from './first-contract-flow';
import { EditorSession, NodeRedRuntime, UI_MS } from './session';

// Globals of the page, used only in callbacks that run in the browser.
declare const RED: any;
declare const document: any;
declare const $: any;
declare function getComputedStyle(element: unknown): { display: string };

const root = repoRoot();
const examplesDir = path.join(root, 'examples');

interface NamedFlow {
  name: string;
  flow: FlowNode[];
}

function flowsToImport(): NamedFlow[] {
  const examples = fs
    .readdirSync(examplesDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ name: `examples/${file}`, flow: JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8')) as FlowNode[] }));
  return [...examples, { name: 'a flow of the first node contract', flow: FIRST_CONTRACT_FLOW }];
}

/** What listens on or connects to a port: ports of one kind and number move together, so clients still find their servers. */
function portKind(n: FlowNode): string | null {
  if (n.type === 'realvirtual-connection' || n.type === 'minvr-connection' || n.type === 'mqtt-broker') return n.type;
  if (n.type === 'tcp in' || n.type === 'tcp out') return 'tcp';
  return null;
}

/** A copy of the flow with each distinct port moved to a free one (kept a string where the flow has one). */
async function withFreePorts(flow: FlowNode[], name: string): Promise<FlowNode[]> {
  const ports = new Map<string, number>();
  const copy = JSON.parse(JSON.stringify(flow)) as FlowNode[];
  for (const n of copy) {
    const kind = portKind(n);
    if (!kind || n.port === undefined || n.port === '') continue;
    const key = `${name}:${kind}:${n.port}`;
    if (!ports.has(key)) ports.set(key, await freePort());
    n.port = typeof n.port === 'string' ? String(ports.get(key)) : ports.get(key);
  }
  return copy;
}

/**
 * What the integration examples use besides this package (devDependencies), installed beside it as
 * a user would: their node packages, and `pg`, which the PostgreSQL historian's function node loads
 * (listed in the user directory's package.json, so that Node-RED finds it instead of installing it).
 */
const INTEGRATION_MODULES = ['@flowfuse/node-red-dashboard', 'node-red-node-sqlite', 'node-red-contrib-modbus', 'node-red-contrib-opcua', 'pg'];

interface Target {
  label: string;
  logName: string;
  failureShot: string;
  runtime: () => NodeRedRuntime | undefined;
}

const TARGETS: Target[] = [
  { label: 'Node-RED 4.1', logName: 'browser-node-red-examples-nr4.log', failureShot: 'examples-nr4-failure.png', runtime: () => undefined },
  {
    label: 'Node-RED 5',
    logName: 'browser-node-red-examples-nr5.log',
    failureShot: 'examples-nr5-failure.png',
    runtime: () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS script of the package
      const { ensureNodeRed5 } = require(path.join(root, 'scripts', 'nr5.js')) as { ensureNodeRed5: () => { nodeBinary: string; redScript: string } };
      const installed = ensureNodeRed5();
      return { node: installed.nodeBinary, red: installed.redScript };
    },
  },
];

for (const target of TARGETS) {
  describe(`browser: examples and flows of earlier versions in the editor of ${target.label}`, function () {
    this.timeout(60000);
    // One editor session: the flows accumulate in the workspace and every deploy holds them all.
    this.bail(true);

    let session: EditorSession | undefined;
    const flows = flowsToImport();

    before(async function () {
      this.timeout(15 * 60000); // on a fresh machine the Node-RED 5 install comes first
      const ids = flows.flatMap(({ flow }) => flow.map((n) => n.id));
      assert.equal(new Set(ids).size, ids.length, 'the imported flows share a node id');
      const runtime = target.runtime();
      session = new EditorSession({ logName: target.logName, failureShot: target.failureShot, readyType: 'minvr-in', runtime, modules: INTEGRATION_MODULES });
      await session.start();
    });

    after(async function () {
      this.timeout(40000);
      if (session) await session.close();
    });

    afterEach(async function () {
      await session?.screenshotOnFailure(this.currentTest?.state);
    });

    /** Every node and config node the editor flags invalid (validated as Deploy does), with its reasons. */
    async function invalidNodes(): Promise<string[]> {
      return session!.page.evaluate(() => {
        const found: string[] = [];
        const check = (n: { type: string; id: string; valid?: boolean; validationErrors?: string[] }): void => {
          if (n.valid === undefined) RED.editor.validateNode(n);
          if (n.valid !== true) found.push(`${n.type} ${n.id}: ${(n.validationErrors ?? []).join(', ')}`);
        };
        RED.nodes.eachConfig(check);
        RED.nodes.eachNode(check);
        return found;
      });
    }

    /** Clicks Deploy; resolves with the text of what the editor shows first: a question to confirm, or the success notification. */
    async function clickDeploy(): Promise<string> {
      const page = session!.page;
      // Notifications of earlier deploys may still be fading: only a new one answers this click.
      await page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((el: any) => el.setAttribute('data-before-deploy', '')));
      await page.locator('#red-ui-header-button-deploy:not(.disabled)').click();
      const question = page.locator('.red-ui-notification:not([data-before-deploy]):has(#red-ui-deploy-dialog-confirm-deploy-deploy)');
      const success = page.locator('.red-ui-notification-success:not([data-before-deploy])');
      const shown = question.or(success).first();
      await shown.waitFor({ state: 'visible', timeout: UI_MS });
      const answer = ((await shown.textContent()) ?? '').trim();
      if (await question.count()) {
        await question.locator('button', { hasText: 'Cancel' }).click(); // leave the editor usable for the screenshot
      }
      return answer;
    }

    for (const { name, flow } of flows) {
      it(`${name}: imported, no node is invalid, and Deploy deploys without a question`, async function () {
        const page = session!.page;
        await session!.importFlow(await withFreePorts(flow, name));
        assert.deepEqual(await invalidNodes(), [], `${name}: nodes the editor flags as not properly configured`);

        const answer = await clickDeploy();
        assert.equal(answer, 'Successfully deployed', `${name}: Deploy answered "${answer}"`);
        await page.waitForFunction(() => !RED.nodes.dirty() && getComputedStyle(document.getElementById('red-ui-header-shade')).display === 'none', undefined, { timeout: UI_MS });

        const deployed = await session!.red!.getJson('flows');
        assert.equal(deployed.status, 200);
        const running = new Set((deployed.body as FlowNode[]).map((n) => n.id));
        const notDeployed = flow.map((n) => n.id).filter((id) => !running.has(id));
        assert.deepEqual(notDeployed, [], `${name}: nodes missing from the deployed flows`);
        session!.expectNoConsoleErrors();
      });
    }

    it("the first-contract connections' edit dialogs show the default of each property they lack", async function () {
      const page = session!.page;
      for (const connection of FIRST_CONTRACT_FLOW.filter((n) => n.type.endsWith('-connection'))) {
        await page.evaluate(([type, id]) => RED.editor.editConfig('', type, id), [connection.type, connection.id] as const);
        await page.locator('#node-config-input-name').waitFor({ state: 'visible' });
        // The properties come from the type the editor registered, so properties added later are checked too.
        const { shown, defaults } = await page.evaluate(
          ([type, saved]) => {
            const definition = RED.nodes.getType(type).defaults;
            const result: { shown: Record<string, unknown>; defaults: Record<string, unknown> } = { shown: {}, defaults: {} };
            for (const key of Object.keys(definition)) {
              const value = definition[key].value;
              if (definition[key].type || saved.includes(key) || (value !== null && typeof value === 'object')) continue;
              const field = $(`#node-config-input-${key}`);
              result.shown[key] = field.length === 0 ? '(no field)' : field.attr('type') === 'checkbox' ? field.prop('checked') : field.val();
              result.defaults[key] = typeof value === 'boolean' ? value : String(value);
            }
            return result;
          },
          [connection.type, Object.keys(connection)] as const,
        );
        assert.ok(Object.keys(defaults).length >= 3, `${connection.id} lacks properties of its type: ${JSON.stringify(defaults)}`);
        assert.deepEqual(shown, defaults, `${connection.id}: the dialog shows the defaults of the absent properties`);
        await session!.closeTray('#node-config-dialog-cancel');
      }
      assert.deepEqual(await invalidNodes(), []);
      session!.expectNoConsoleErrors();
    });
  });
}
