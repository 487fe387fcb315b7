/**
 * The editor in a real browser: a real Node-RED (the node-red devDependency, in a temp
 * user directory with this package linked in) started as a child process, and Debian's
 * Chromium driven by playwright-core. Every node type is dragged from the palette (the
 * realvirtual-connection config node is added through the "+" button of a node's
 * connection field, as users do), its edit dialog and help are checked, the connection
 * dialog's Test connection / Import signals run against live peers from our engine, the
 * signal picker is used, and the flow is deployed. Screenshots go to
 * test-artifacts/screenshots/.
 *
 * Not part of the default `npx mocha` run: `npm run test:browser` (needs the apt package
 * chromium; no browser is ever downloaded).
 */
import assert from 'assert/strict';
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { BrowserContext, chromium, ConsoleMessage, Locator, Page } from 'playwright-core';
import { RealvirtualClient, RealvirtualServer } from '../../engine';
import { freePort, within } from '../helpers/events';
import { repoRoot } from '../repo';

/** Debian's Chromium (apt package `chromium`). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const PACKAGE = 'node-red-contrib-realvirtual';
const root = repoRoot();
const SHOTS = path.join(root, 'test-artifacts', 'screenshots');
/** Bound of every single browser wait, in ms. */
const UI_MS = 10000;

// Globals of the page, used only in callbacks that run in the browser.
declare const RED: any;
declare const document: any;
declare function getComputedStyle(element: unknown): { display: string };

/** Node-RED in a child process: a temp user dir, 127.0.0.1 and a free port. */
class NodeRedProcess {
  private output = '';
  private exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly userDir: string,
    readonly port: number,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-200000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get log(): string {
    return this.output;
  }

  static async start(): Promise<NodeRedProcess> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-browser-nr-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(root, path.join(userDir, 'node_modules', PACKAGE), 'dir');
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true, dependencies: { [PACKAGE]: '*' } }));
    fs.writeFileSync(path.join(userDir, 'flows.json'), '[]');
    const settings = {
      uiHost: '127.0.0.1',
      flowFile: 'flows.json',
      credentialSecret: false,
      // Nothing in the editor may reach beyond 127.0.0.1: no palette catalogue, no update check, no tours.
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false, ui: false },
      editorTheme: { tours: false, palette: { catalogues: [] } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    };
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    const port = await freePort();
    const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port)], {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const red = new NodeRedProcess(child, userDir, port);
    try {
      await red.waitUntilUp(30000);
    } catch (error) {
      await red.stop();
      throw error;
    }
    return red;
  }

  private async waitUntilUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`Node-RED exited while starting:\n${this.output}`);
      if (this.output.includes('Started flows') && (await this.answers('settings'))) return;
      if (Date.now() > deadline) throw new Error(`Node-RED did not start within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private answers(route: string): Promise<boolean> {
    return new Promise((resolve) => {
      const request = http.get(`${this.url}${route}`, { timeout: 2000 }, (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(false));
    });
  }

  /** GET an admin route from the test process (no adminAuth is set), parsed as JSON. */
  getJson(route: string): Promise<{ status: number; body: any }> {
    return within(
      new Promise((resolve, reject) => {
        const request = http.get(`${this.url}${route}`, { timeout: 5000 }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            try {
              resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
            } catch (error) {
              reject(error);
            }
          });
        });
        request.on('timeout', () => request.destroy(new Error(`GET ${route} timed out`)));
        request.on('error', reject);
      }),
      `GET ${route}`,
      6000,
    );
  }

  /** Stops this child by its own handle (SIGTERM, then SIGKILL) and removes the user dir. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      try {
        await within(this.exited, 'Node-RED to exit after SIGTERM', 8000);
      } catch {
        this.child.kill('SIGKILL');
        await within(this.exited, 'Node-RED to exit after SIGKILL', 5000);
      }
    }
    fs.mkdirSync(path.dirname(SHOTS), { recursive: true });
    fs.writeFileSync(path.join(path.dirname(SHOTS), 'browser-node-red.log'), this.output);
    fs.unlinkSync(path.join(this.userDir, 'node_modules', PACKAGE)); // the link first: never follow it into the repository
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

describe('browser: the editor in Chromium against a real Node-RED', function () {
  this.timeout(60000);
  // The steps build on each other (one flow, one editor session): stop at the first failure.
  this.bail(true);

  let red: NodeRedProcess | undefined;
  let context: BrowserContext | undefined;
  let profileDir: string | undefined;
  let page: Page;
  /** Console errors and uncaught page errors of the whole session, and requests that tried to leave 127.0.0.1. */
  const problems: string[] = [];
  let problemsSeen = 0;
  const offsite: string[] = [];

  /** The peer of the client-mode connection: a realvirtual server as Unity would be, with a few declared signals. */
  let peer: RealvirtualServer | undefined;
  /** A client of the server-mode connection, as realvirtual in client mode would be. */
  let twin: RealvirtualClient | undefined;
  let serverPort = 0;

  const ids: Record<string, string> = {};

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); this test never downloads a browser`);
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.rmSync(path.join(SHOTS, 'failure.png'), { force: true }); // from an earlier failed run
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
    red = await NodeRedProcess.start();

    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-browser-profile-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
      locale: 'en-US', // the help and labels checked below are the en-US ones
      timeout: 30000,
    });
    const base = red.url;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(UI_MS);
    page.setDefaultNavigationTimeout(30000);
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(base);
    await page.locator('.red-ui-palette-node[data-palette-type="realvirtual-in"]').waitFor({ state: 'attached', timeout: 30000 });
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
    if (context) await attempt(() => within(context!.close(), 'closing Chromium', 15000));
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    if (twin) await attempt(() => within(twin!.close(), 'closing the twin client', 5000));
    if (red) await attempt(() => red!.stop());
    if (peer) await attempt(() => within(peer!.close(), 'closing the peer server', 5000));
    if (failures.length) throw failures[0];
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && context) {
      await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => undefined);
    }
  });

  /** Fails with every console error, page error or off-site request since the last check. */
  function expectNoConsoleErrors(): void {
    const fresh = problems.slice(problemsSeen);
    problemsSeen = problems.length;
    assert.deepEqual(fresh, [], `the browser reported:\n${fresh.join('\n')}`);
    assert.deepEqual(offsite, [], `the editor tried to reach beyond 127.0.0.1: ${offsite.join(', ')}`);
  }

  /**
   * Takes back the one console error a step provoked on purpose: Chromium logs every HTTP
   * error answer of an XHR ("Failed to load resource: … 409 (Conflict) (<url>)").
   */
  async function expectProvokedError(status: number, route: string): Promise<void> {
    const matches = (problem: string): boolean => problem.startsWith('console error: Failed to load resource') && problem.includes(`status of ${status} `) && problem.endsWith(`${route})`);
    const deadline = Date.now() + UI_MS;
    while (!problems.slice(problemsSeen).some(matches)) {
      if (Date.now() > deadline) throw new Error(`the ${status} answer of ${route} was not logged`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    problems.splice(problems.findIndex((problem, index) => index >= problemsSeen && matches(problem)), 1);
  }

  /** Saves a screenshot once the editor's notifications ("Successfully deployed"…) have faded. */
  async function shot(name: string, locator?: Locator): Promise<void> {
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-notification').length === 0, undefined, { timeout: UI_MS });
    const file = path.join(SHOTS, `${name}.png`);
    if (locator) await locator.screenshot({ path: file });
    else await page.screenshot({ path: file });
  }

  async function nodesOfType(type: string): Promise<string[]> {
    return page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n: { id: string }) => n.id), type);
  }

  /** Drags `type` from the palette onto the workspace at (x, y); resolves with the new node's id. */
  async function dragFromPalette(type: string, x: number, y: number): Promise<string> {
    const before = await nodesOfType(type);
    const source = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
    await source.scrollIntoViewIfNeeded();
    await page.dragAndDrop(`.red-ui-palette-node[data-palette-type="${type}"]`, '#red-ui-workspace-chart', { targetPosition: { x, y } });
    const handle = await page.waitForFunction(
      ([t, known]) => RED.nodes.filterNodes({ type: t }).map((n: { id: string }) => n.id).find((id: string) => !known.includes(id)),
      [type, before] as const,
      { timeout: UI_MS },
    );
    const id = (await handle.jsonValue()) as string;
    await page.locator(`[id="${id}"]`).waitFor({ state: 'visible' });
    return id;
  }

  /** The topmost edit tray. */
  function tray(): Locator {
    return page.locator('#red-ui-editor-stack .red-ui-tray').last();
  }

  async function openEditDialog(id: string, field: string): Promise<void> {
    await page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
    await page.locator(field).waitFor({ state: 'visible' });
  }

  /** Clicks the book button of the topmost tray and checks the help sidebar. */
  async function expectHelp(title: string, phrase: string): Promise<void> {
    await tray().locator('.red-ui-tray-footer-left button:has(i.fa-book)').click();
    const help = page.locator('.red-ui-sidebar-help-stack');
    await help.locator('h1.red-ui-help-title', { hasText: title }).waitFor({ state: 'visible' });
    await help.locator('h3', { hasText: 'Details' }).first().waitFor({ state: 'visible' });
    await help.getByText(phrase, { exact: false }).first().waitFor({ state: 'visible' });
  }

  /**
   * Clicks a button that closes the topmost tray (Done, Add, Cancel…) and waits until it is
   * gone and the tray below is back, or, for the last one, until the editor is usable again.
   * (The editor keeps only the topmost tray in the DOM.)
   */
  async function closeTray(button = '#node-dialog-ok'): Promise<void> {
    const current = await tray().elementHandle();
    await page.locator(button).click();
    await page.waitForFunction((el) => !el.isConnected, current, { timeout: UI_MS });
    await page.waitForFunction(
      () => {
        const below = document.querySelector('#red-ui-editor-stack .red-ui-tray');
        if (below) return below.style.right === '0px';
        return getComputedStyle(document.getElementById('red-ui-header-shade')).display === 'none';
      },
      undefined,
      { timeout: UI_MS },
    );
  }

  async function nodeProperty(id: string, key: string): Promise<unknown> {
    return page.evaluate(([i, k]) => RED.nodes.node(i)[k], [id, key] as const);
  }

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

  /** Widens the topmost tray by dragging its resize handle, as a user would for the signal list. */
  async function widenTray(by: number): Promise<void> {
    const handle = tray().locator('.red-ui-tray-resize-handle');
    const box = await handle.boundingBox();
    assert.ok(box, 'the tray has a resize handle');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - by, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
  }

  /** The rows of the declared-signals list as [name, type, direction]. */
  async function declaredRows(): Promise<string[][]> {
    return page.locator('#node-config-input-signals-container .rv-signal-row').evaluateAll((rows) =>
      rows.map((row) => ['.rv-signal-name', '.rv-signal-type', '.rv-signal-direction'].map((field) => (row.querySelector(field) as { value: string }).value)),
    );
  }

  async function pickerItems(): Promise<string[]> {
    return page.locator('.rv-signal-picker:visible .rv-signal-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-signal') ?? ''));
  }

  /** Clicks Deploy and waits until the editor is done deploying (its spinner and shades gone). */
  async function deploy(): Promise<void> {
    // An invalid node would make the editor ask "not properly configured… deploy anyway?".
    const invalid = await page.evaluate(() => {
      const found: string[] = [];
      const check = (n: { type: string; id: string; valid?: boolean; validationErrors?: string[] }): void => {
        if (n.valid === false) found.push(`${n.type} ${n.id}: invalid ${(n.validationErrors ?? []).join(', ')}`);
      };
      RED.nodes.eachConfig(check);
      RED.nodes.eachNode(check);
      return found;
    });
    assert.deepEqual(invalid, [], 'every node is valid before deploy');
    await page.locator('#red-ui-header-button-deploy:not(.disabled)').click();
    await page.waitForFunction(
      () =>
        !RED.nodes.dirty() &&
        getComputedStyle(document.querySelector('.red-ui-deploy-button-spinner')).display === 'none' &&
        getComputedStyle(document.getElementById('red-ui-header-shade')).display === 'none',
      undefined,
      { timeout: UI_MS },
    );
  }

  /** Waits until the node's status in the workspace is `fill`/`shape` and its label matches. */
  async function expectStatus(id: string, fill: string, shape: string, text: RegExp): Promise<string> {
    const status = page.locator(`[id="${id}"] .red-ui-flow-node-status`);
    const label = page.locator(`[id="${id}"] .red-ui-flow-node-status-label`);
    try {
      await page.waitForFunction(
        ([i, cls, source]) => {
          const node = document.getElementById(i);
          const shapeEl = node?.querySelector('.red-ui-flow-node-status');
          const labelEl = node?.querySelector('.red-ui-flow-node-status-label');
          return !!shapeEl && shapeEl.classList.contains(cls) && !!labelEl && new RegExp(source).test(labelEl.textContent ?? '');
        },
        [id, `red-ui-flow-node-status-${shape}-${fill}`, text.source] as const,
        { timeout: UI_MS },
      );
    } catch (error) {
      const classes = await status.getAttribute('class').catch(() => '?');
      const shown = await label.textContent().catch(() => '?');
      throw new Error(`status of ${id}: expected ${fill} ${shape} ${text}, shows "${classes}" "${shown}"\n${(error as Error).message}`);
    }
    return (await label.textContent()) ?? '';
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
      const catalog = await red!.getJson(`realvirtual/catalog/${ids.client}`);
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
    await expectStatus(ids.serverIn, 'green', 'dot', /^1 client\(s\)$/);
    await expectStatus(ids.in, 'green', 'dot', new RegExp(`127\\.0\\.0\\.1:${peer!.port}`));

    await openEditDialog(ids.serverIn, '#node-input-signals');
    await page.locator('#node-input-btn-connection-edit').click();
    await page.locator('#node-config-input-mode').waitFor({ state: 'visible' });
    await page.locator('#rv-button-test').click();
    await result.filter({ hasText: /listening on|cannot|error/ }).waitFor({ state: 'visible' });
    assert.equal(await result.innerText(), `listening on ws://127.0.0.1:${serverPort}/: 1 client(s)`);
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
    await expectStatus(ids.serverIn, 'green', 'dot', /^1 client\(s\)$/);
    await shot('11-deployed');
    expectNoConsoleErrors();
  });

  it('reported no console error and made no request beyond 127.0.0.1 during the whole session', function () {
    problemsSeen = 0;
    expectNoConsoleErrors();
  });
});
