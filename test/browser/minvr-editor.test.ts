/**
 * The MinVR3 nodes in the editor, in Debian's Chromium against a real Node-RED (see
 * ./session): minvr in and minvr out are dragged from the palette, their dialogs and help
 * are checked, a minvr-connection is added through the "+" of minvr in's connection field
 * (its defaults are the contract of MINVR_CONNECTION_DEFAULTS; its rows follow transport,
 * mode and reconnect), and the flow is deployed in server mode. A MinVRClient of our engine,
 * in this process, then connects as a MinVR3 app would: the status dots follow it, an event
 * it sends reaches a debug node wired to minvr in, and an inject node wired to minvr out
 * sends it an event. Screenshots go to test-artifacts/screenshots/minvr-*.png.
 *
 * Not part of the default `npx mocha` run: `npm run test:browser` (needs the apt package
 * chromium; no browser is ever downloaded).
 */
import assert from 'assert/strict';
import { Page } from 'playwright-core';
import { MinVRClient, VREvent } from '../../engine';
import { MINVR_CONNECTION_DEFAULTS } from '../../nodes/lib/minvr-settings';
import { freePort, nextEvent, within } from '../helpers/events';
import { EditorSession } from './session';

describe('browser: the MinVR3 nodes in the editor against a real Node-RED', function () {
  this.timeout(60000);
  // The steps build on each other (one flow, one editor session): stop at the first failure.
  this.bail(true);

  const session = new EditorSession({ logName: 'browser-node-red-minvr.log', failureShot: 'minvr-failure.png', readyType: 'minvr-in' });
  const { expectNoConsoleErrors, shot, dragFromPalette, wire, openEditDialog, expectHelp, closeTray, nodeProperty, deploy, expectStatus } = session;
  let page: Page;

  /** The port the deployed minvr-connection listens on (server mode). */
  let minvrPort = 0;
  /** A MinVR3 app as the engine plays it: a TCP client of the deployed server. */
  let app: MinVRClient | undefined;

  const ids: Record<string, string> = {};

  before(async function () {
    minvrPort = await freePort();
    await session.start();
    page = session.page;
  });

  after(async function () {
    this.timeout(40000);
    const failures: unknown[] = [];
    if (app) await within(app.close(), 'closing the MinVR3 client', 5000).catch((error) => failures.push(error));
    await session.close().catch((error) => failures.push(error));
    if (failures.length) throw failures[0];
  });

  afterEach(async function () {
    await session.screenshotOnFailure(this.currentTest?.state);
  });

  /** The connection dialog's values, as the inputs hold them. */
  async function connectionForm(): Promise<Record<string, string | boolean>> {
    const form: Record<string, string | boolean> = {};
    for (const key of Object.keys(MINVR_CONNECTION_DEFAULTS)) {
      const input = page.locator(`#node-config-input-${key}`);
      form[key] = key === 'autoReconnect' ? await input.isChecked() : await input.inputValue();
    }
    return form;
  }

  /** Which of the connection dialog's conditional rows are shown. */
  async function shownRows(): Promise<Record<string, boolean>> {
    return {
      path: await page.locator('#node-config-input-path').isVisible(),
      frameTimeout: await page.locator('#node-config-input-frameTimeout').isVisible(),
      reconnectInterval: await page.locator('#node-config-input-reconnectInterval').isVisible(),
      allInterfacesWarning: await page.locator('#minvr-warning-all-interfaces').isVisible(),
    };
  }

  /** Types into a field as a user does (Node-RED validates on keyup), replacing what was there. */
  async function typeInto(selector: string, text: string): Promise<void> {
    await page.locator(selector).fill('');
    await page.locator(selector).pressSequentially(text);
  }

  async function isMarkedInvalid(selector: string): Promise<boolean> {
    return page.locator(selector).evaluate((element) => element.classList.contains('input-error'));
  }

  /** The value typedInput of row `row` of the inject node's property list: picks `type` from its menu and types `value`. */
  async function setInjectProperty(row: number, type: string, value: string): Promise<void> {
    const field = page.locator('#node-input-property-container > li').nth(row).locator('.red-ui-typedInput-container').nth(1);
    await field.locator('button.red-ui-typedInput-type-select').click();
    await page.locator(`.red-ui-typedInput-options:visible a[value="${type}"]`).click();
    await page.locator('.red-ui-typedInput-options').first().waitFor({ state: 'hidden' });
    const input = field.locator('input.red-ui-typedInput-input');
    await input.fill('');
    await input.pressSequentially(value);
  }

  it('shows minvr in and minvr out in the realvirtual palette category', async function () {
    const category = page.locator('#red-ui-palette-base-category-realvirtual');
    for (const [type, label] of [
      ['minvr-in', 'minvr in'],
      ['minvr-out', 'minvr out'],
    ]) {
      const entry = category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} is in the realvirtual category`);
      assert.equal((await entry.locator('.red-ui-palette-label').innerText()).trim(), label);
    }
    assert.equal(await page.locator('.red-ui-palette-node[data-palette-type="minvr-connection"]').count(), 0, 'the config node is not in the palette');
    const search = page.locator('#red-ui-palette-search input');
    await search.pressSequentially('minvr');
    await page.locator('.red-ui-palette-node[data-palette-type="realvirtual-in"]').waitFor({ state: 'hidden' });
    await page.locator('.red-ui-palette-node[data-palette-type="minvr-in"]').waitFor({ state: 'visible' });
    await page.locator('.red-ui-palette-node[data-palette-type="minvr-out"]').waitFor({ state: 'visible' });
    // The other categories slide up; clearing the filter before they are gone would let the
    // slide finish after the editor has shown them again, and hide them for good.
    await page.locator('#red-ui-palette-container-common').waitFor({ state: 'hidden' });
    await shot('minvr-01-palette', page.locator('#red-ui-palette'));
    // The flow below needs inject and debug from the palette too.
    await page.locator('#red-ui-palette-search .red-ui-searchBox-clear').click();
    await page.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: 'visible' });
    await page.locator('.red-ui-palette-node[data-palette-type="debug"]').waitFor({ state: 'visible' });
    expectNoConsoleErrors();
  });

  it('minvr in: dragged from the palette, its edit dialog opens with its help', async function () {
    ids.in = await dragFromPalette('minvr-in', 160, 80);
    await openEditDialog(ids.in, '#node-input-events');
    await expectHelp('minvr in', 'which an unfiltered Unity sender streams every frame');
    expectNoConsoleErrors();
  });

  it('minvr-connection: the "+" of minvr in opens its dialog with the contract defaults; rows follow transport, mode and reconnect; a bad port is marked', async function () {
    await page.locator('#node-input-btn-connection-add').click();
    await page.locator('#node-config-input-transport').waitFor({ state: 'visible' });
    await expectHelp('minvr-connection', 'frames of a 4-byte little-endian length');

    const defaults: Record<string, string | boolean> = {};
    for (const [key, value] of Object.entries(MINVR_CONNECTION_DEFAULTS)) defaults[key] = typeof value === 'boolean' ? value : String(value);
    assert.deepEqual(await connectionForm(), defaults, 'a new connection shows MINVR_CONNECTION_DEFAULTS');
    assert.equal(defaults.transport, 'tcp');
    assert.equal(defaults.mode, 'server');
    assert.equal(defaults.host, '127.0.0.1');
    assert.equal(defaults.port, '9034');
    assert.deepEqual(await shownRows(), { path: false, frameTimeout: true, reconnectInterval: true, allInterfacesWarning: false }, 'tcp, reconnect on');
    assert.equal((await page.locator('#minvr-host-label').innerText()).trim(), 'Bind address');

    await page.locator('#node-config-input-transport').selectOption('websocket');
    assert.deepEqual(await shownRows(), { path: true, frameTimeout: false, reconnectInterval: true, allInterfacesWarning: false }, 'websocket: path, no frame timeout');
    await page.locator('#node-config-input-autoReconnect').uncheck();
    assert.deepEqual(await shownRows(), { path: true, frameTimeout: false, reconnectInterval: false, allInterfacesWarning: false }, 'reconnect off: no interval');

    await typeInto('#node-config-input-host', '0.0.0.0');
    assert.equal((await shownRows()).allInterfacesWarning, true, '0.0.0.0 in server mode warns');
    await shot('minvr-02-connection-dialog');
    await page.locator('#node-config-input-mode').selectOption('client');
    assert.equal((await shownRows()).allInterfacesWarning, false, 'a client does not bind: no warning');
    assert.equal((await page.locator('#minvr-host-label').innerText()).trim(), 'Server address');
    await page.locator('#node-config-input-mode').selectOption('server');
    assert.equal((await shownRows()).allInterfacesWarning, true);
    await typeInto('#node-config-input-host', '127.0.0.1');
    assert.equal((await shownRows()).allInterfacesWarning, false);

    await page.locator('#node-config-input-transport').selectOption('tcp');
    await page.locator('#node-config-input-autoReconnect').check();
    assert.deepEqual(await shownRows(), { path: false, frameTimeout: true, reconnectInterval: true, allInterfacesWarning: false }, 'back to tcp, reconnect on');

    for (const bad of ['70000', 'abc', '-1']) {
      await typeInto('#node-config-input-port', bad);
      assert.equal(await isMarkedInvalid('#node-config-input-port'), true, `port ${bad} is marked invalid`);
    }
    await typeInto('#node-config-input-port', String(minvrPort));
    assert.equal(await isMarkedInvalid('#node-config-input-port'), false, `port ${minvrPort} is valid`);

    await closeTray('#node-config-dialog-ok');
    ids.connection = await page.locator('#node-input-connection').inputValue();
    assert.ok(ids.connection && ids.connection !== '_ADD_', 'the new connection is selected in minvr in');
    assert.equal((await page.locator('#node-input-connection option:checked').innerText()).trim(), `minvr tcp://127.0.0.1:${minvrPort} (server)`);
    await typeInto('#node-input-events', 'Menu/*, Head/*');
    await closeTray();

    assert.equal(await nodeProperty(ids.in, 'connection'), ids.connection);
    assert.equal(await nodeProperty(ids.in, 'events'), 'Menu/*, Head/*');
    const saved: Record<string, unknown> = {};
    for (const key of Object.keys(MINVR_CONNECTION_DEFAULTS)) saved[key] = await nodeProperty(ids.connection, key);
    assert.deepEqual(
      Object.fromEntries(Object.entries(saved).map(([key, value]) => [key, typeof value === 'boolean' ? value : String(value)])),
      { ...defaults, port: String(minvrPort) },
      'the connection is saved with the defaults and the chosen port',
    );
    expectNoConsoleErrors();
  });

  it('minvr out: dragged from the palette, its edit dialog opens with its help; connection and data type are saved', async function () {
    ids.out = await dragFromPalette('minvr-out', 460, 180);
    await openEditDialog(ids.out, '#node-input-dataType');
    await expectHelp('minvr out', 'Booleans have no MinVR3 type');
    assert.equal(await page.locator('#node-input-dataType').inputValue(), '', 'a new minvr out infers the data type');
    await page.locator('#node-input-connection').selectOption(ids.connection);
    await page.locator('#node-input-dataType').selectOption('Vector3');
    await closeTray();
    assert.equal(await nodeProperty(ids.out, 'connection'), ids.connection);
    assert.equal(await nodeProperty(ids.out, 'dataType'), 'Vector3');
    expectNoConsoleErrors();
  });

  it('wires a debug node to minvr in and an inject node (topic and payload) to minvr out', async function () {
    ids.debug = await dragFromPalette('debug', 460, 80);
    await wire(ids.in, ids.debug);
    ids.inject = await dragFromPalette('inject', 160, 180);
    await openEditDialog(ids.inject, '#node-input-property-container');
    await page.locator('#node-input-property-container > li').nth(1).waitFor({ state: 'visible' });
    await setInjectProperty(0, 'json', '{"x":1.5,"y":2,"z":-3}');
    await setInjectProperty(1, 'str', 'Robot/Position');
    await closeTray();
    // The inject node keeps payload and topic in their own properties.
    assert.deepEqual(await nodeProperty(ids.inject, 'props'), [{ p: 'payload' }, { p: 'topic', vt: 'str' }]);
    assert.equal(await nodeProperty(ids.inject, 'payload'), '{"x":1.5,"y":2,"z":-3}');
    assert.equal(await nodeProperty(ids.inject, 'payloadType'), 'json');
    assert.equal(await nodeProperty(ids.inject, 'topic'), 'Robot/Position');
    await wire(ids.inject, ids.out);
    expectNoConsoleErrors();
  });

  it('deploys: minvr in and minvr out show a green ring "listening"; a MinVR3 client connecting makes it a green dot with 1 peer', async function () {
    await deploy();
    for (const key of ['in', 'out']) await expectStatus(ids[key], 'green', 'ring', /^listening: 0 peers$/);
    app = new MinVRClient({ transport: 'tcp', host: '127.0.0.1', port: minvrPort, autoReconnect: false });
    await within(app.connect(), 'the MinVR3 client to connect to the deployed minvr-connection', 5000);
    for (const key of ['in', 'out']) await expectStatus(ids[key], 'green', 'dot', /^1 peer$/);
    expectNoConsoleErrors();
  });

  it('an event the MinVR3 client sends reaches the debug sidebar through minvr in (its events filter applied)', async function () {
    await page.locator('#red-ui-tab-debug-link-button').click();
    await page.locator('.red-ui-debug-content-list').waitFor({ state: 'visible' });
    const messages = page.locator('.red-ui-debug-content-list .red-ui-debug-msg');
    assert.equal(await messages.count(), 0);
    // Sent first, filtered out by "Menu/*, Head/*": had it passed, it would show before the next one.
    assert.equal(app!.send({ name: 'Other/Ignored', type: 'Int32', data: 7 }), 1);
    assert.equal(app!.send({ name: 'Menu/Select', type: 'String', data: 'hello from MinVR3' }), 1);
    const shown = messages.filter({ has: page.locator('.red-ui-debug-msg-topic', { hasText: 'Menu/Select' }) });
    await shown.waitFor({ state: 'visible' });
    assert.match(await shown.locator('.red-ui-debug-msg-payload').innerText(), /"hello from MinVR3"/);
    assert.equal(await messages.count(), 1, 'only the event the filter lets through');
    assert.doesNotMatch(await page.locator('.red-ui-debug-content-list').innerText(), /Other\/Ignored/);
    expectNoConsoleErrors();
  });

  it("the inject node's button sends its message through minvr out to the MinVR3 client", async function () {
    const received = nextEvent(app!, 'event', (event: VREvent) => event.name === 'Robot/Position', 5000);
    const answer = page.waitForResponse((response) => response.url().endsWith(`/inject/${ids.inject}`));
    await page.locator(`[id="${ids.inject}"] .red-ui-flow-node-button`).click();
    assert.equal((await answer).status(), 200);
    const [event, peer] = await received;
    assert.deepEqual(event, { name: 'Robot/Position', type: 'Vector3', data: { x: 1.5, y: 2, z: -3 } });
    assert.equal(peer.id, 'server');
    await expectStatus(ids.out, 'green', 'dot', /^1 peer$/);
    await shot('minvr-03-deployed');
    expectNoConsoleErrors();
  });

  it('reported no console error and made no request beyond 127.0.0.1 during the whole session', function () {
    session.expectNoConsoleErrorsInSession();
  });
});
