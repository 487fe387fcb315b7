/**
 * The editor in a real browser: a real Node-RED (the node-red devDependency, in a temp
 * user directory with this package linked in) started as a child process, and Debian's
 * Chromium driven by playwright-core. Every node type is dragged from the palette (the
 * realvirtual-connection config node is added through the "+" button of a node's
 * connection field, as users do), its edit dialog and help are checked, the connection
 * dialog's Test connection / Import signals run against live peers from our engine, the
 * signal picker is used, and the flow is deployed. Screenshots go to
 * test-artifacts/screenshots/. Node-RED, Chromium and the editor steps are in ./session.
 *
 * Not part of the default `npx mocha` run: `npm run test:browser` (needs the apt package
 * chromium; no browser is ever downloaded).
 */
import assert from 'assert/strict';
import { Page } from 'playwright-core';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { freePort, within } from '../helpers/events';
import { EditorSession, UI_MS } from './session';

// Globals of the page, used only in callbacks that run in the browser.
declare const document: any;

describe('browser: the editor in Chromium against a real Node-RED', function () {
  this.timeout(60000);
  // The steps build on each other (one flow, one editor session): stop at the first failure.
  this.bail(true);

  const session = new EditorSession({ logName: 'browser-node-red.log', failureShot: 'failure.png', readyType: 'realvirtual-in' });
  const { expectNoConsoleErrors, expectProvokedError, shot, dragFromPalette, openEditDialog, expectHelp, closeTray, nodeProperty, widenTray, deploy, expectStatus } = session;
  let page: Page;

  /** The peer of the client-mode connection: a realvirtual server as Unity would be, with a few declared signals. */
  let peer: RealvirtualServer | undefined;
  /** A client of the server-mode connection, as realvirtual in client mode would be. */
  let twin: RealvirtualClient | undefined;
  let serverPort = 0;

  const ids: Record<string, string> = {};

  before(async function () {
    peer = new RealvirtualServer({
      host: '127.0.0.1',
      port: 0,
      signals: [
        { name: 'DriveSpeed', type: 'Float', direction: 'write', value: 0 },
        { name: 'Counter', type: 'Int', direction: 'write', value: 0 },
        { name: 'Sensor1', type: 'Bool', direction: 'read' },
        { name: 'Message', type: 'Text', direction: 'read' },
      ],
    });
    await peer.listen();
    serverPort = await freePort();
    await session.start();
    page = session.page;
  });

  after(async function () {
    this.timeout(40000);
    const failures: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        failures.push(error);
      }
    };
    if (twin) await attempt(() => within(twin!.close(), 'closing the twin client', 5000));
    await attempt(() => session.close());
    if (peer) await attempt(() => within(peer!.close(), 'closing the peer server', 5000));
    if (failures.length) throw failures[0];
  });

  afterEach(async function () {
    await session.screenshotOnFailure(this.currentTest?.state);
  });

  /** Which of the connection dialog's mode-dependent fields are shown. */
  async function shownFields(): Promise<Record<string, boolean>> {
    const shown: Record<string, boolean> = {};
    for (const field of ['clientName', 'autoReconnect', 'reconnectInterval', 'maxReconnectAttempts']) shown[field] = await page.locator(`#node-config-input-${field}`).isVisible();
    return shown;
  }

  /** Reconnect settings apply in both modes (client: reconnect; server: retry a busy port); the interval follows the checkbox. */
  async function expectReconnectFields(mode: 'client' | 'server'): Promise<void> {
    const both = { clientName: mode === 'client', autoReconnect: true };
    assert.deepEqual(await shownFields(), { ...both, reconnectInterval: true, maxReconnectAttempts: true }, `${mode} mode, reconnect on`);
    await page.locator('#node-config-input-autoReconnect').uncheck();
    assert.deepEqual(await shownFields(), { ...both, reconnectInterval: false, maxReconnectAttempts: false }, `${mode} mode, reconnect off`);
    await page.locator('#node-config-input-autoReconnect').check();
    assert.deepEqual(await shownFields(), { ...both, reconnectInterval: true, maxReconnectAttempts: true }, `${mode} mode, reconnect on again`);
  }

  /** The rows of the declared-signals list as [name, type, direction]. */
  async function declaredRows(): Promise<string[][]> {
    return page
      .locator('#node-config-input-signals-container .rv-signal-row')
      .evaluateAll((rows) => rows.map((row) => ['.rv-signal-name', '.rv-signal-type', '.rv-signal-direction'].map((field) => (row.querySelector(field) as { value: string }).value)));
  }

  async function pickerItems(): Promise<string[]> {
    return page.locator('.rv-signal-picker:visible .rv-signal-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-signal') ?? ''));
  }

  it('shows the four realvirtual nodes in their own palette category', async function () {
    const category = page.locator('#red-ui-palette-base-category-realvirtual');
    for (const type of ['realvirtual-in', 'realvirtual-out', 'realvirtual-import', 'realvirtual-config']) {
      assert.equal(await category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} is in the realvirtual category`);
    }
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="realvirtual-connection"]').count(), 0, 'the config node is not in the palette');
    await page.locator('#red-ui-palette-search input').pressSequentially('realvirtual');
    await page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: 'hidden' });
    await page.locator('#red-ui-palette-header-realvirtual').waitFor({ state: 'visible' });
    assert.equal((await page.locator('#red-ui-palette-header-realvirtual').innerText()).trim(), 'realvirtual');
    await shot('01-palette');
    expectNoConsoleErrors();
  });

  it('realvirtual-in: dragged from the palette, its edit dialog opens with its help', async function () {
    ids.in = await dragFromPalette('realvirtual-in', 140, 80);
    await openEditDialog(ids.in, '#node-input-signals');
    await expectHelp('realvirtual in', 'union of all realvirtual-in nodes');
    await shot('02-realvirtual-in-dialog');
    expectNoConsoleErrors();
  });

  it('realvirtual-connection (client): Test connection reaches the live peer, Import signals fills the list with directions inverted', async function () {
    await page.locator('#node-input-btn-connection-add').click();
    await page.locator('#node-config-input-mode').waitFor({ state: 'visible' });
    await expectHelp('realvirtual-connection', 'Import signals');
    await page.locator('#node-config-input-mode').selectOption('client');
    await expectReconnectFields('client');
    await page.locator('#node-config-input-host').fill('127.0.0.1');
    await page.locator('#node-config-input-port').fill(String(peer!.port));
    await page.locator('#node-config-input-name').fill('Unity twin');

    await page.locator('#rv-button-test').click();
    const result = page.locator('#rv-dialog-result');
    await result.filter({ hasText: /connected to|refused|error|timeout|took longer/i }).waitFor({ state: 'visible' });
    assert.match(await result.innerText(), new RegExp(`^connected to ws://127\\.0\\.0\\.1:${peer!.port}/ in \\d+ ms$`));

    assert.deepEqual(await declaredRows(), []);
    await page.locator('#rv-button-import').click();
    await result.filter({ hasText: /imported|error|refused|took longer/i }).waitFor({ state: 'visible' });
    assert.match(await result.innerText(), /^4 signal\(s\) imported/);
    const rows = await declaredRows();
    assert.deepEqual(
      [...rows].sort(),
      [
        ['Counter', 'Int', 'read'],
        ['DriveSpeed', 'Float', 'read'],
        ['Message', 'Text', 'write'],
        ['Sensor1', 'Bool', 'write'],
      ],
      'the peer writes DriveSpeed and Counter (we read them) and reads Sensor1 and Message (we write them)',
    );
    await widenTray(250);
    await page.locator('#node-config-input-signals-container').scrollIntoViewIfNeeded();
    await shot('03-connection-client-import');

    await closeTray('#node-config-dialog-ok');
    const connectionId = (await page.locator('#node-input-connection').inputValue()) as string;
    assert.ok(connectionId && connectionId !== '_ADD_', 'the new connection is selected in realvirtual-in');
    ids.client = connectionId;
    const signals = (await nodeProperty(ids.client, 'signals')) as Array<{ name: string; direction: string }>;
    assert.deepEqual(signals.map((s) => `${s.name}:${s.direction}`).sort(), ['Counter:read', 'DriveSpeed:read', 'Message:write', 'Sensor1:write']);
    assert.equal(await nodeProperty(ids.client, 'mode'), 'client');
    expectNoConsoleErrors();
  });

  it("realvirtual-in: the signal picker lists the connection's declared signals, search filters, clicks toggle names, free names still work", async function () {
    const input = page.locator('#node-input-signals');
    await page.locator('.rv-signal-browse').click();
    await page.locator('.rv-signal-picker').waitFor({ state: 'visible' });
    await page.locator('.rv-signal-picker .rv-signal-item').first().waitFor({ state: 'visible' });
    assert.deepEqual((await pickerItems()).sort(), ['Counter', 'DriveSpeed', 'Message', 'Sensor1'], 'the declared signals');

    await page.locator('.rv-signal-search').fill('sens');
    await page.waitForFunction(() => document.querySelectorAll('.rv-signal-picker .rv-signal-item').length === 1);
    assert.deepEqual(await pickerItems(), ['Sensor1']);
    await page.locator('.rv-signal-search').fill('nothing-like-this');
    await page.locator('.rv-signal-picker .rv-signal-empty').waitFor({ state: 'visible' });
    await page.locator('.rv-signal-search').fill('');
    await page.waitForFunction(() => document.querySelectorAll('.rv-signal-picker .rv-signal-item').length === 4);

    await page.locator('.rv-signal-item[data-signal="DriveSpeed"]').click();
    assert.equal(await input.inputValue(), 'DriveSpeed');
    await page.locator('.rv-signal-item[data-signal="Sensor1"]').click();
    assert.equal(await input.inputValue(), 'DriveSpeed,Sensor1');
    await page.locator('.rv-signal-item[data-signal="Sensor1"]').click();
    assert.equal(await input.inputValue(), 'DriveSpeed', 'a second click removes the name again');
    await page.locator('.rv-signal-item[data-signal="DriveSpeed"] i.fa-check-square-o').waitFor({ state: 'visible' });
    await shot('04-realvirtual-in-picker');

    // A name the connection does not know yet: typed freely (the peer writes it only after deploy).
    await input.click();
    await input.press('End');
    await input.pressSequentially(',LiveOnly');
    await page.locator('#node-input-name').click();
    assert.equal(await input.inputValue(), 'DriveSpeed,LiveOnly');
    await closeTray();
    assert.equal(await nodeProperty(ids.in, 'signals'), 'DriveSpeed,LiveOnly');
    assert.equal(await nodeProperty(ids.in, 'connection'), ids.client);
    expectNoConsoleErrors();
  });

  it('realvirtual-out: dragged from the palette, its dialog has help and a single-name picker; free names work', async function () {
    ids.out = await dragFromPalette('realvirtual-out', 420, 80);
    await openEditDialog(ids.out, '#node-input-signal');
    await expectHelp('realvirtual out', 'picks it from the connection');
    // Node-RED 4.1 leaves a new node's config field at "None" even when one connection exists.
    assert.equal(await page.locator('#node-input-connection').inputValue(), '_ADD_');
    await page.locator('.rv-signal-browse').click();
    await page.locator('.rv-signal-picker .rv-signal-empty').waitFor({ state: 'visible' });
    // Choosing the connection while the picker is open refreshes it.
    await page.locator('#node-input-connection').selectOption(ids.client);
    await page.locator('.rv-signal-picker .rv-signal-item').first().waitFor({ state: 'visible' });
    assert.deepEqual((await pickerItems()).sort(), ['Counter', 'DriveSpeed', 'Message', 'Sensor1']);
    await page.locator('.rv-signal-search').fill('mess');
    await page.waitForFunction(() => document.querySelectorAll('.rv-signal-picker .rv-signal-item').length === 1);
    await page.locator('.rv-signal-item[data-signal="Message"]').click();
    assert.equal(await page.locator('#node-input-signal').inputValue(), 'Message');
    await page.locator('.rv-signal-search').fill('');
    await page.locator('.rv-signal-item[data-signal="Sensor1"]').click();
    assert.equal(await page.locator('#node-input-signal').inputValue(), 'Sensor1', 'a pick replaces the single name');
    await shot('05-realvirtual-out-dialog');
    await page.locator('#node-input-signal').fill('');
    await page.locator('#node-input-signal').pressSequentially('Anything');
    await page.locator('#node-input-name').click();
    await closeTray();
    assert.equal(await nodeProperty(ids.out, 'signal'), 'Anything');
    expectNoConsoleErrors();
  });

  it('realvirtual-import: dragged from the palette, its dialog opens with its help', async function () {
    ids.import = await dragFromPalette('realvirtual-import', 140, 180);
    await openEditDialog(ids.import, '#node-input-declare');
    await expectHelp('realvirtual import', 'one message is sent per answer');
    await page.locator('#node-input-connection').selectOption(ids.client);
    await shot('06-realvirtual-import-dialog');
    await closeTray();
    expectNoConsoleErrors();
  });

  it('realvirtual-config: dragged from the palette, its dialog opens with its help', async function () {
    ids.config = await dragFromPalette('realvirtual-config', 420, 180);
    await openEditDialog(ids.config, '#node-input-name');
    await expectHelp('realvirtual config', 'publishIntervalMs');
    await page.locator('#node-input-connection').selectOption(ids.client);
    await shot('07-realvirtual-config-dialog');
    await closeTray();
    expectNoConsoleErrors();
  });

  it('deploys: every node shows a green dot with the server host:port', async function () {
    await deploy();
    for (const key of ['in', 'out', 'import', 'config']) {
      const text = await expectStatus(ids[key], 'green', 'dot', new RegExp(`127\\.0\\.0\\.1:${peer!.port}`));
      assert.match(text, /^connected: /, `${key}: ${text}`);
    }
    await shot('08-deployed-client');
    expectNoConsoleErrors();
  });

  it("after deploy the picker reads the connection's catalog from /realvirtual/catalog/:id", async function () {
    // Known only to the running connection: the peer writes a signal nobody declared
    // (realvirtual-in subscribed to it by its free name).
    peer!.write('LiveOnly', 7);
    const deadline = Date.now() + UI_MS;
    for (;;) {
      const catalog = await session.red!.getJson(`realvirtual/catalog/${ids.client}`);
      if (catalog.status === 200 && catalog.body.signals.some((s: { name: string }) => s.name === 'LiveOnly')) break;
      if (Date.now() > deadline) throw new Error(`LiveOnly never reached the deployed connection: ${JSON.stringify(catalog)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await openEditDialog(ids.out, '#node-input-signal');
    const answer = page.waitForResponse((response) => response.url().includes(`/realvirtual/catalog/${ids.client}`));
    await page.locator('.rv-signal-browse').click();
    const response = await answer;
    assert.equal(response.status(), 200);
    const body = (await response.json()) as { signals: Array<{ name: string }> };
    await page.locator('.rv-signal-picker .rv-signal-item').first().waitFor({ state: 'visible' });
    assert.deepEqual(await pickerItems(), body.signals.map((s) => s.name).sort());
    assert.deepEqual(await pickerItems(), ['Counter', 'DriveSpeed', 'LiveOnly', 'Message', 'Sensor1']);
    await page.locator('.rv-signal-item[data-signal="LiveOnly"]').click();
    assert.equal(await page.locator('#node-input-signal').inputValue(), 'LiveOnly');
    await shot('09-realvirtual-out-picker-catalog');
    await closeTray('#node-dialog-cancel');
    expectNoConsoleErrors();
  });

  it('realvirtual-connection (server): Import signals asks the connected clients after deploy', async function () {
    ids.serverIn = await dragFromPalette('realvirtual-in', 140, 280);
    await openEditDialog(ids.serverIn, '#node-input-signals');
    await page.locator('#node-input-btn-connection-add').click();
    await page.locator('#node-config-input-mode').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#node-config-input-mode').inputValue(), 'server', 'a new connection starts in server mode');
    await expectReconnectFields('server');
    await page.locator('#node-config-input-port').fill(String(serverPort));
    const result = page.locator('#rv-dialog-result');
    await page.locator('#rv-button-test').click();
    await result.filter({ hasText: /free|cannot listen/ }).waitFor({ state: 'visible' });
    assert.equal(await result.innerText(), `127.0.0.1:${serverPort} is free: deploy to start listening`);
    await page.locator('#rv-button-import').click();
    await result.filter({ hasText: /deploy the connection first/ }).waitFor({ state: 'visible' });
    await expectProvokedError(409, '/realvirtual/import');
    await closeTray('#node-config-dialog-ok');
    ids.server = await page.locator('#node-input-connection').inputValue();
    assert.notEqual(ids.server, ids.client);
    await closeTray();

    await deploy();
    await expectStatus(ids.serverIn, 'green', 'ring', /^listening: 0 clients$/);
    twin = new RealvirtualClient({
      host: '127.0.0.1',
      port: serverPort,
      clientName: 'Twin',
      autoReconnect: true,
      reconnectIntervalMs: 200,
      signals: [
        { name: 'TwinPosition', type: 'Float', direction: 'write', value: 0 },
        { name: 'TwinStart', type: 'Bool', direction: 'read' },
      ],
    });
    await within(twin.connect(), 'the twin to connect to the deployed server', 5000);
    await expectStatus(ids.serverIn, 'green', 'dot', /^1 client$/);
    await expectStatus(ids.in, 'green', 'dot', new RegExp(`127\\.0\\.0\\.1:${peer!.port}`));

    await openEditDialog(ids.serverIn, '#node-input-signals');
    await page.locator('#node-input-btn-connection-edit').click();
    await page.locator('#node-config-input-mode').waitFor({ state: 'visible' });
    await page.locator('#rv-button-test').click();
    await result.filter({ hasText: /listening on|cannot|error/ }).waitFor({ state: 'visible' });
    assert.equal(await result.innerText(), `listening on ws://127.0.0.1:${serverPort}/: 1 client`);
    await page.locator('#rv-button-import').click();
    await result.filter({ hasText: /imported|error|took longer/ }).waitFor({ state: 'visible' });
    assert.match(await result.innerText(), /^2 signal\(s\) imported/);
    assert.deepEqual((await declaredRows()).sort(), [
      ['TwinPosition', 'Float', 'read'],
      ['TwinStart', 'Bool', 'write'],
    ]);
    await widenTray(250);
    await page.locator('#node-config-input-signals-container').scrollIntoViewIfNeeded();
    await shot('10-connection-server-import');
    await closeTray('#node-config-dialog-ok');
    await closeTray();
    await deploy();
    await expectStatus(ids.serverIn, 'green', 'dot', /^1 client$/);
    await shot('11-deployed');
    expectNoConsoleErrors();
  });

  it('reported no console error and made no request beyond 127.0.0.1 during the whole session', function () {
    session.expectNoConsoleErrorsInSession();
  });
});
