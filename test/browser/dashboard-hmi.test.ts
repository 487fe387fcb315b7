/**
 * examples/dashboard-hmi.json in a real Node-RED with FlowFuse Dashboard 2.0, against the real
 * realvirtual-sim (a child process on a free port), in Debian's Chromium: imported and deployed
 * through the editor (no node flagged invalid), then its /dashboard page shows the conveyor's
 * values changing, and its Stop, Start and speed controls reach the simulator. Saves
 * test-artifacts/screenshots/dashboard-hmi.png (the README's docs/screenshots/dashboard-hmi.png).
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { Page } from 'playwright-core';
import { RealvirtualClient } from '../../engine';
import { SimProcess } from '../helpers/sim';
import { repoRoot } from '../repo';
import { EditorSession, SHOTS, UI_MS } from './session';

declare const RED: any;

const EXAMPLE = path.join(repoRoot(), 'examples', 'dashboard-hmi.json');
const widget = (nodeId: string): string => `[id="nrdb-ui-widget-${nodeId}"]`;

describe('browser: operator HMI on Dashboard 2.0 with realvirtual-sim', function () {
  this.timeout(120000);
  const session = new EditorSession({
    logName: 'dashboard-node-red.log',
    failureShot: 'dashboard-failure.png',
    readyType: 'ui-button',
    modules: ['@flowfuse/node-red-dashboard', 'node-red-node-sqlite'],
  });
  let sim: SimProcess | null = null;
  let observer: RealvirtualClient | null = null;
  let dashboard: Page | null = null;

  after(async function () {
    if (observer) await observer.close();
    await session.close();
    if (sim) await sim.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && dashboard) await dashboard.screenshot({ path: path.join(SHOTS, 'dashboard-failure.png') }).catch(() => undefined);
  });

  const text = async (nodeId: string): Promise<string> => ((await (dashboard as Page).locator(`${widget(nodeId)} .nrdb-ui-text-value`).textContent()) ?? '').trim();
  const showsText = (nodeId: string, expected: string): Promise<unknown> =>
    (dashboard as Page).waitForFunction(([selector, value]) => (document.querySelector(selector)?.textContent ?? '').trim() === value, [`${widget(nodeId)} .nrdb-ui-text-value`, expected] as const, {
      timeout: UI_MS,
    });

  it('the historian examples import with every node valid (then are undone)', async function () {
    await session.start();
    for (const file of ['historian-sqlite.json', 'historian-postgres.json']) {
      const flow = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'examples', file), 'utf8'));
      const invalid = await session.page.evaluate((nodes) => {
        // touchImport: placed at once, not left hanging at the mouse pointer for a click (which would swallow the next import).
        RED.view.importNodes(nodes, { generateIds: false, addFlow: false, touchImport: true });
        const found: string[] = [];
        const check = (n: { type: string; id: string; valid?: boolean }): void => {
          if (n.valid === false) found.push(`${n.type} ${n.id}`);
        };
        RED.nodes.eachConfig(check);
        RED.nodes.eachNode(check);
        const imported = RED.nodes.filterNodes({}).length;
        RED.history.pop();
        return { found, imported, left: RED.nodes.filterNodes({}).length };
      }, flow);
      assert.deepEqual(invalid.found, [], `${file}: nodes flagged invalid`);
      assert.equal(invalid.imported, flow.filter((n: { type: string; z?: string }) => n.z).length, `${file}: every flow node imported`);
      assert.equal(invalid.left, 0, `${file}: the import is undone`);
    }
    session.expectNoConsoleErrors();
  });

  it('imports and deploys with every node valid; its realvirtual nodes connect to the simulator', async function () {
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    const flow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Array<{ id: string; type: string; [key: string]: unknown }>;
    for (const n of flow) if (n.type === 'realvirtual-connection') n.port = port;
    await session.importFlow(flow);
    await session.deploy();
    await session.page.evaluate(() => RED.workspaces.show('rvex.hmi.tab'));
    for (const n of flow.filter((n) => /^realvirtual-(in|out)$/.test(n.type))) await session.expectStatus(n.id, 'green', 'dot', /./);
    await sim.waitFor(/Node-RED subscribed to Counter, DrivePosition, Sensor1, Status/, UI_MS);
    session.expectNoConsoleErrors();
  });

  it("/dashboard shows the conveyor's values changing as the simulator runs", async function () {
    assert.ok(session.red && sim);
    const page = await session.page.context().newPage();
    dashboard = page;
    page.setDefaultTimeout(UI_MS);
    page.on('console', (message) => {
      if (message.type() === 'error') session.problems.push(`dashboard console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => session.problems.push(`dashboard page error: ${error.message}`));
    await page.goto(`${session.red.url}dashboard`);
    await page.waitForURL(/\/dashboard\/conveyor$/, { timeout: UI_MS });
    await showsText('rvex.hmi.w1', 'Running');
    assert.match(await text('rvex.hmi.w2'), /^(true|false)$/, 'Sensor1');
    assert.match(await text('rvex.hmi.w3'), /^\d+$/, 'Counter');
    const first = Number(await text('rvex.hmi.w4'));
    assert.ok(Number.isFinite(first), 'DrivePosition is a number');
    // The belt runs at 200 mm/s: a few updates later the position has grown by at least 200 mm.
    await page.waitForFunction(([selector, from]) => Number(document.querySelector(selector)?.textContent) >= from + 200, [`${widget('rvex.hmi.w4')} .nrdb-ui-text-value`, first] as const, {
      timeout: UI_MS,
    });
    await page
      .locator(`${widget('rvex.hmi.w5')} canvas`)
      .first()
      .waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-hmi.png') });
    session.expectNoConsoleErrors();
  });

  it('Stop, the speed slider and Start reach the simulator', async function () {
    assert.ok(sim && dashboard);
    const page = dashboard;
    observer = new RealvirtualClient({ port: Number(/:(\d+)\//.exec(sim.stdout)?.[1]), clientName: 'Observer', autoReconnect: false });
    const seen: unknown[] = [];
    observer.on('data', (event) => {
      if (event.values.Status !== undefined) seen.push(event.values.Status);
    });
    await observer.connect();

    await page.locator(`${widget('rvex.hmi.b2')} button`).click();
    await sim.waitFor(/Node-RED set MotorOn = false/, UI_MS);
    await until(() => seen.includes('Stopped'), 'the simulator to report Status "Stopped"');
    await showsText('rvex.hmi.w1', 'Stopped');

    // Drag the slider's thumb to about half of the track; the value is sent when it is released.
    const thumb = page.locator(`${widget('rvex.hmi.s1')} [role="slider"]`);
    const track = await page.locator(`${widget('rvex.hmi.s1')} .v-slider-track`).boundingBox();
    const start = await thumb.boundingBox();
    assert.ok(track && start, 'the slider is visible');
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
    await page.mouse.down();
    await page.mouse.move(track.x + track.width / 2, track.y + track.height / 2, { steps: 10 });
    await page.mouse.up();
    const speed = Number(await thumb.getAttribute('aria-valuenow'));
    assert.ok(speed > 200 && speed % 10 === 0, `the slider moved up in steps of 10 (shows ${speed})`);
    await sim.waitFor(new RegExp(`Node-RED set DriveSpeed = ${speed}\\b`), UI_MS);

    await page.locator(`${widget('rvex.hmi.b1')} button`).click();
    await sim.waitFor(/Node-RED set MotorOn = true/, UI_MS);
    await until(() => seen.lastIndexOf('Running') > seen.indexOf('Stopped'), 'the simulator to report Status "Running" again');
    await showsText('rvex.hmi.w1', 'Running');
    session.expectNoConsoleErrorsInSession();
  });
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + UI_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${UI_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

declare const document: any;
