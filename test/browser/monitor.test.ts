/**
 * The signal monitor sidebar tab in Chromium against a real Node-RED with adminAuth on and
 * the realvirtual-sim command as the peer: values change live in the tab while the
 * simulator runs; forcing DriveSpeed from the tab changes the simulator's belt speed (it
 * logs the speed it was set to) and the value is held against the flow; "Show in monitor"
 * in a node's edit dialog filters the tab to its signals; a read-only user sees the values
 * but cannot write (the editor is disabled and the write route answers 403).
 *
 * Not part of the default `npx mocha` run: `npm run test:browser` (needs the apt package chromium).
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { Page } from 'playwright-core';
import { RealvirtualServer } from '../../engine';
import { SimProcess } from '../helpers/sim';
import { within } from '../helpers/events';
import { repoRoot } from '../repo';
import { EditorSession, UI_MS } from './session';

declare const RED: any;
declare const $: any;
declare const document: any;

// bcryptjs comes with Node-RED (its adminAuth checks passwords with it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red'))] }));
const PASSWORD = 'monitor-test';
const hash = bcrypt.hashSync(PASSWORD, 8);

describe('browser: the signal monitor tab against the simulator, with adminAuth', function () {
  this.timeout(90000);
  this.bail(true);

  const session = new EditorSession({
    logName: 'browser-monitor-node-red.log',
    failureShot: 'monitor-failure.png',
    readyType: 'realvirtual-in',
    login: { username: 'admin', password: PASSWORD },
    settings: {
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'admin', password: hash, permissions: '*' },
          { username: 'viewer', password: hash, permissions: 'read' },
        ],
      },
    },
  });
  const { expectNoConsoleErrors, expectProvokedError, shot, deploy, expectStatus, openEditDialog, closeTray } = session;
  let page: Page;
  let sim: SimProcess | undefined;
  /** A peer with 10,000 signals, for scrolling. */
  let large: RealvirtualServer | undefined;

  before(async function () {
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    await session.start();
    page = session.page;
    // The demo's connection (every property set as the editor saves it), pointed at this simulator.
    const demo = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'examples', 'simulator-demo.json'), 'utf8')) as Array<Record<string, unknown>>;
    const conn = { ...demo.find((n) => n.type === 'realvirtual-connection')!, id: 'mon.conn', name: 'Conveyor', port };
    await page.evaluate(
      (nodes) => {
        // Every property the editor knows gets its default first, as a node added from the palette has.
        const defaults = RED.nodes.getType('realvirtual-connection').defaults;
        const base: Record<string, unknown> = {};
        for (const key of Object.keys(defaults)) base[key] = defaults[key].value;
        nodes[0] = { ...base, ...nodes[0] };
        RED.view.importNodes(nodes, { generateIds: false, addFlow: false, touchImport: true });
        RED.nodes.dirty(true);
      },
      [
        conn,
        { id: 'mon.in', type: 'realvirtual-in', name: 'conveyor state', connection: 'mon.conn', signals: 'DrivePosition,Counter,Sensor1,Status', output: 'changes', x: 200, y: 120, wires: [[]] },
        { id: 'mon.out', type: 'realvirtual-out', name: 'drive speed', connection: 'mon.conn', signal: 'DriveSpeed', x: 400, y: 200, wires: [] },
        { id: 'mon.inj', type: 'inject', name: 'speed 50', props: [{ p: 'payload' }], payload: '50', payloadType: 'num', repeat: '', once: false, topic: '', x: 200, y: 200, wires: [['mon.out']] },
      ],
    );
    await deploy();
    await expectStatus('mon.in', 'green', 'dot', /connected/);
  });

  after(async function () {
    this.timeout(40000);
    await session.close().catch(() => undefined);
    if (sim) await sim.stop();
    if (large) await within(large.close(), 'closing the large peer', 5000);
  });

  afterEach(async function () {
    await session.screenshotOnFailure(this.currentTest?.state);
  });

  const tab = (): ReturnType<Page['locator']> => page.locator('.red-ui-rv-monitor');
  const row = (name: string): ReturnType<Page['locator']> => tab().locator(`.red-ui-rv-monitor-row[data-name="${name}"]`);
  const valueOf = async (name: string): Promise<string> => ((await row(name).locator('.red-ui-rv-monitor-value').textContent()) ?? '').replace(/^HOLD|^HALTEN/, '');

  /** Wider, as users drag the sidebar for a watch table. */
  async function widenSidebar(): Promise<void> {
    const separator = await page.locator('#red-ui-sidebar-separator').boundingBox();
    assert.ok(separator, 'the sidebar has a separator');
    await page.mouse.move(separator.x + separator.width / 2, separator.y + separator.height / 2);
    await page.mouse.down();
    await page.mouse.move(separator.x - 260, separator.y + separator.height / 2, { steps: 5 });
    await page.mouse.up();
  }

  async function openMonitor(): Promise<void> {
    await page.evaluate(() => RED.sidebar.show('realvirtual-monitor'));
    await tab().waitFor({ state: 'visible' });
    await row('DrivePosition').waitFor({ state: 'visible' });
  }

  it('shows the connection, its peer and every signal, with values changing live', async function () {
    await openMonitor();
    await widenSidebar();
    await tab().locator('.red-ui-rv-monitor-connection option', { hasText: 'Conveyor' }).waitFor({ state: 'attached' });
    await tab().locator('.red-ui-rv-monitor-peer').first().waitFor({ state: 'visible' });
    assert.match((await tab().locator('.red-ui-rv-monitor-state').textContent()) ?? '', /client · connected · ws:\/\/127\.0\.0\.1:\d+\//);
    const names = await tab()
      .locator('.red-ui-rv-monitor-row')
      .evaluateAll((rows) => rows.map((r: any) => r.getAttribute('data-name')));
    for (const name of ['Counter', 'DrivePosition', 'DriveSpeed', 'MotorOn', 'ResetCounter', 'Sensor1', 'Status']) assert.ok(names.includes(name), `${name} is listed: ${names}`);
    const first = await valueOf('DrivePosition');
    await page.waitForFunction(
      (before) => {
        const cell = document.querySelector('.red-ui-rv-monitor-row[data-name="DrivePosition"] .red-ui-rv-monitor-value');
        return cell && cell.textContent !== before;
      },
      first,
      { timeout: UI_MS },
    );
    expectNoConsoleErrors();
  });

  it('filters by search and direction', async function () {
    await tab().locator('.red-ui-rv-monitor-search').fill('drive');
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-rv-monitor-row[data-name]').length === 2, undefined, { timeout: UI_MS });
    await tab().locator('.red-ui-rv-monitor-direction').selectOption('write');
    await page.waitForFunction(() => [...document.querySelectorAll('.red-ui-rv-monitor-row[data-name]')].map((r: any) => r.getAttribute('data-name')).join() === 'DriveSpeed', undefined, {
      timeout: UI_MS,
    });
    await tab().locator('.red-ui-rv-monitor-search').fill('');
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-rv-monitor-row[data-name]').length === 3, undefined, { timeout: UI_MS });
    await tab().locator('.red-ui-rv-monitor-direction').selectOption('all');
    await row('DrivePosition').waitFor({ state: 'visible' });
  });

  it('forces DriveSpeed: the simulator runs at the new speed, the value is marked as set from the editor and logged with the user', async function () {
    await row('DriveSpeed').click();
    const editor = row('DriveSpeed').locator('.red-ui-rv-monitor-editor');
    await editor.waitFor({ state: 'visible' });
    assert.equal(await editor.locator('input.red-ui-rv-monitor-input').getAttribute('type'), 'number', 'a number input for a Float');
    await editor.locator('input.red-ui-rv-monitor-input').fill('432');
    await shot('monitor-02-force', tab());
    await editor.locator('.red-ui-rv-monitor-set').click();
    await sim!.waitFor(/Node-RED set DriveSpeed = 432/, UI_MS);
    await page.waitForFunction(
      () => {
        const r = document.querySelector('.red-ui-rv-monitor-row[data-name="DriveSpeed"]');
        return r && /432/.test(r.querySelector('.red-ui-rv-monitor-value').textContent) && r.querySelector('.red-ui-rv-monitor-by').textContent === 'editor:admin';
      },
      undefined,
      { timeout: UI_MS },
    );
    await within(
      (async () => {
        while (!/editor:admin set DriveSpeed = 432/.test(session.red!.log)) await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
      'the log line naming the editor user',
      UI_MS,
    );
    expectNoConsoleErrors();
  });

  it('holds DriveSpeed against the flow until released, shown as HOLD', async function () {
    await row('DriveSpeed').click();
    const editor = row('DriveSpeed').locator('.red-ui-rv-monitor-editor');
    await editor.locator('input.red-ui-rv-monitor-input').fill('300');
    await editor.locator('.red-ui-rv-monitor-hold').check();
    await editor.locator('.red-ui-rv-monitor-set').click();
    await sim!.waitFor(/Node-RED set DriveSpeed = 300/, UI_MS);
    await row('DriveSpeed').locator('.red-ui-rv-monitor-held').waitFor({ state: 'visible' });
    await shot('monitor-01-tab', tab());
    // The flow writes DriveSpeed 50: the held 300 wins; the simulator never runs at 50.
    const before = sim!.stdout.length;
    const injected = page.waitForResponse((response) => response.url().endsWith('/inject/mon.inj'));
    await page.locator('[id="mon.inj"] .red-ui-flow-node-button').click();
    assert.equal((await injected).status(), 200);
    // A few cycles of the connection (10 ms each) for a 50 to reach the simulator, if it were sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const shownSpeed = await valueOf('DriveSpeed');
    assert.match(shownSpeed, /^300$/, `the held value stays in the tab: ${shownSpeed}`);
    await row('DriveSpeed').click();
    await row('DriveSpeed').locator('.red-ui-rv-monitor-release').click();
    await row('DriveSpeed').locator('.red-ui-rv-monitor-held').waitFor({ state: 'detached' });
    assert.doesNotMatch(sim!.stdout.slice(before), /set DriveSpeed = 50\b/);
    expectNoConsoleErrors();
  });

  it('"Show in monitor" in the edit dialog and the context menu filters the tab to the node\'s signals', async function () {
    await openEditDialog('mon.in', '#node-input-signals');
    await session.tray().locator('.red-ui-rv-monitor-show').click();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('.red-ui-rv-monitor-row[data-name]')]
          .map((r: any) => r.getAttribute('data-name'))
          .sort()
          .join() === 'Counter,DrivePosition,Sensor1,Status',
      undefined,
      { timeout: UI_MS },
    );
    await tab().locator('.red-ui-rv-monitor-only').waitFor({ state: 'visible' });
    await closeTray('#node-dialog-cancel');
    await tab().locator('.red-ui-rv-monitor-only a').click();
    await row('DriveSpeed').waitFor({ state: 'visible' });
    // The same from the workspace's context menu of the realvirtual-out node.
    await page.evaluate(() => RED.view.select(''));
    await page.locator('[id="mon.out"] .red-ui-flow-node').click();
    await page.locator('[id="mon.out"] .red-ui-flow-node').click({ button: 'right' });
    await page.locator('#red-ui-workspace-context-menu .red-ui-rv-monitor-menu').click();
    await page.waitForFunction(() => [...document.querySelectorAll('.red-ui-rv-monitor-row[data-name]')].map((r: any) => r.getAttribute('data-name')).join() === 'DriveSpeed', undefined, {
      timeout: UI_MS,
    });
    await tab().locator('.red-ui-rv-monitor-only a').click();
    await row('DrivePosition').waitFor({ state: 'visible' });
    expectNoConsoleErrors();
  });

  it('scrolls a connection of 10,000 signals, drawing only the rows in view', async function () {
    large = new RealvirtualServer({
      host: '127.0.0.1',
      port: 0,
      signals: Array.from({ length: 10000 }, (_, i) => ({ name: `Signal${String(i).padStart(5, '0')}`, type: 'Int' as const, direction: 'write' as const, value: i })),
    });
    await large.listen();
    await page.evaluate((port) => {
      const defaults = RED.nodes.getType('realvirtual-connection').defaults;
      const conn: Record<string, unknown> = { id: 'mon.large', type: 'realvirtual-connection', name: 'Large', mode: 'client', host: '127.0.0.1', port };
      for (const key of Object.keys(defaults)) if (!(key in conn)) conn[key] = defaults[key].value;
      conn.signals = [];
      RED.view.importNodes([conn, { id: 'mon.large.in', type: 'realvirtual-in', name: 'large', connection: 'mon.large', signals: '', output: 'changes', x: 200, y: 300, wires: [[]] }], {
        generateIds: false,
        addFlow: false,
        touchImport: true,
      });
      RED.nodes.dirty(true);
    }, large.port);
    await deploy();
    await expectStatus('mon.large.in', 'green', 'dot', /connected/);
    await tab().locator('.red-ui-rv-monitor-connection option', { hasText: 'Large' }).waitFor({ state: 'attached' });
    await tab().locator('.red-ui-rv-monitor-connection').selectOption({ label: 'realvirtual: Large (connected)' });
    await row('Signal00000').waitFor({ state: 'visible' });
    const list = tab().locator('.red-ui-rv-monitor-list');
    // To the middle, then to the end, as a dragged scroll bar does.
    for (const target of ['Signal05000', 'Signal09999']) {
      await list.evaluate((el: any, name: string) => {
        el.scrollTop = (Number(name.slice(6)) - 2) * 26;
      }, target);
      await row(target).waitFor({ state: 'visible' });
      assert.equal(await row(target).locator('.red-ui-rv-monitor-value').textContent(), String(Number(target.slice(6))));
    }
    const drawn = await tab().locator('.red-ui-rv-monitor-row').count();
    assert.ok(drawn < 100, `only the rows in view are drawn: ${drawn}`);
    await tab().locator('.red-ui-rv-monitor-connection').selectOption({ label: 'realvirtual: Conveyor (connected)' });
    await row('DrivePosition').waitFor({ state: 'visible' });
    expectNoConsoleErrors();
  });

  it('a read-only user sees the values but cannot write: the editor is disabled and the route answers 403', async function () {
    await page.evaluate(() => RED.user.logout());
    await session.logIn('viewer', PASSWORD);
    await openMonitor();
    await widenSidebar();
    const first = await valueOf('DrivePosition');
    await page.waitForFunction((before) => document.querySelector('.red-ui-rv-monitor-row[data-name="DrivePosition"] .red-ui-rv-monitor-value')?.textContent !== before, first, { timeout: UI_MS });
    await row('DriveSpeed').click();
    const editor = row('DriveSpeed').locator('.red-ui-rv-monitor-editor');
    await editor.waitFor({ state: 'visible' });
    assert.equal(await editor.locator('.red-ui-rv-monitor-set').isDisabled(), true, 'Set is disabled');
    assert.equal(await editor.locator('input.red-ui-rv-monitor-input').isDisabled(), true, 'the input is disabled');
    assert.match((await editor.locator('.red-ui-rv-monitor-message').textContent()) ?? '', /realvirtual\.write/);
    await shot('monitor-03-read-only', tab());
    const status = await page.evaluate(
      () =>
        new Promise<number>((resolve) =>
          $.ajax({ url: 'realvirtual/monitor/write', type: 'POST', contentType: 'application/json', data: JSON.stringify({ connection: 'mon.conn', name: 'DriveSpeed', value: 1 }) }).always(
            (_a: unknown, _b: unknown, c: any) => resolve(typeof c === 'object' && c && c.status ? c.status : (_a as any).status),
          ),
        ),
    );
    assert.equal(status, 403);
    await expectProvokedError(403, 'realvirtual/monitor/write');
    assert.doesNotMatch(sim!.stdout, /set DriveSpeed = 1\b/);
    expectNoConsoleErrors();
  });
});
