/**
 * What the browser tests share: a real Node-RED (the node-red devDependency, in a temp user
 * directory with this package linked in) started as a child process, Debian's Chromium driven
 * by playwright-core against it, and the editor steps the tests are made of (drag from the
 * palette, open a dialog and its help, close trays, deploy, wait for a status, screenshots).
 * Every request that would leave 127.0.0.1 is blocked and recorded, and so is every console
 * error of the page: expectNoConsoleErrors() fails on either.
 */
import assert from 'assert/strict';
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { BrowserContext, chromium, ConsoleMessage, Locator, Page } from 'playwright-core';
import { freePort, within } from '../helpers/events';
import { repoRoot } from '../repo';

/** Debian's Chromium (apt package `chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const PACKAGE = 'node-red-contrib-realvirtual';
const root = repoRoot();
export const ARTIFACTS = path.join(root, 'test-artifacts');
export const SHOTS = path.join(ARTIFACTS, 'screenshots');
/** Bound of every single browser wait, in ms. */
export const UI_MS = 10000;

// Globals of the page, used only in callbacks that run in the browser.
declare const RED: any;
declare const document: any;
declare function getComputedStyle(element: unknown): { display: string };

/** Which Node-RED runs, under which Node.js: by default the node-red devDependency under this process's Node.js. */
export interface NodeRedRuntime {
  /** The Node.js binary. */
  node: string;
  /** Node-RED's red.js. */
  red: string;
}

/** Node-RED in a child process: a temp user dir, 127.0.0.1 and a free port. */
/** How NodeRedProcess.start runs Node-RED (see there). */
export interface NodeRedStartOptions {
  runtime?: NodeRedRuntime;
  modules?: string[];
  settings?: Record<string, unknown>;
}

export class NodeRedProcess {
  private output = '';
  private exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly userDir: string,
    readonly port: number,
    private readonly logFile: string,
    private readonly modules: string[] = [],
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

  /**
   * Starts Node-RED; its output is saved to test-artifacts/<logName> when it stops. `runtime`: another
   * Node-RED than the devDependency (Node-RED 5); `modules`: node packages (devDependencies) linked into
   * its user dir beside this package; `settings`: more Node-RED settings (e.g. adminAuth).
   */
  static async start(logName = 'browser-node-red.log', options: NodeRedStartOptions = {}): Promise<NodeRedProcess> {
    const { runtime, modules = [], settings: extraSettings = {} } = options;
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-browser-nr-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    fs.symlinkSync(root, path.join(userDir, 'node_modules', PACKAGE), 'dir');
    const dependencies: Record<string, string> = { [PACKAGE]: '*' };
    for (const name of modules) {
      const link = path.join(userDir, 'node_modules', name);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(path.dirname(require.resolve(`${name}/package.json`)), link, 'dir');
      dependencies[name] = '*';
    }
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true, dependencies }));
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
      ...extraSettings,
    };
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    const port = await freePort();
    const { node, red: redScript } = runtime ?? { node: process.execPath, red: require.resolve('node-red/red.js') };
    const child = spawn(node, [redScript, '--userDir', userDir, '--port', String(port)], {
      cwd: userDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Node packages that keep files in the user's config folder (the OPC UA client's PKI) keep them in the user dir.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(userDir, '.config') },
    });
    const red = new NodeRedProcess(child, userDir, port, path.join(ARTIFACTS, logName), modules);
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
      // auth/login answers also with adminAuth on (settings then needs a login).
      if (this.output.includes('Started flows') && (await this.answers('auth/login'))) return;
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
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    fs.writeFileSync(this.logFile, this.output);
    // The links first: never follow them into the repository.
    for (const name of [PACKAGE, ...this.modules]) fs.unlinkSync(path.join(this.userDir, 'node_modules', name));
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

export interface SessionOptions {
  /** File name in test-artifacts/ for Node-RED's output. */
  logName: string;
  /** File name in test-artifacts/screenshots/ for the screenshot of a failed step. */
  failureShot: string;
  /** A palette node type whose presence means the editor has loaded. */
  readyType: string;
  /** Another Node-RED than the devDependency (Node-RED 5, see scripts/nr5.js). */
  runtime?: NodeRedRuntime;
  /** Node packages (devDependencies) to install beside this one. */
  modules?: string[];
  /** More Node-RED settings (e.g. adminAuth). */
  settings?: Record<string, unknown>;
  /** With adminAuth: who logs in to the editor first. */
  login?: { username: string; password: string };
}

/**
 * One Node-RED and one editor session in Chromium. The steps are arrow-function properties,
 * so a test can destructure them: `const { shot, deploy } = session;`.
 */
export class EditorSession {
  red: NodeRedProcess | undefined;
  private context: BrowserContext | undefined;
  private profileDir: string | undefined;
  private currentPage: Page | undefined;
  /** Console errors and uncaught page errors of the whole session, and requests that tried to leave 127.0.0.1. */
  readonly problems: string[] = [];
  private problemsSeen = 0;
  readonly offsite: string[] = [];

  constructor(private readonly options: SessionOptions) {}

  get page(): Page {
    if (!this.currentPage) throw new Error('the editor session has not started');
    return this.currentPage;
  }

  /** Starts Node-RED and Chromium and loads the editor. */
  async start(): Promise<void> {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); this test never downloads a browser`);
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.rmSync(path.join(SHOTS, this.options.failureShot), { force: true }); // from an earlier failed run
    this.red = await NodeRedProcess.start(this.options.logName, { runtime: this.options.runtime, modules: this.options.modules, settings: this.options.settings });

    this.profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-browser-profile-'));
    this.context = await chromium.launchPersistentContext(this.profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
      locale: 'en-US', // the help and labels the tests check are the en-US ones
      timeout: 30000,
    });
    const base = this.red.url;
    await this.context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      this.offsite.push(url);
      return route.abort();
    });
    const page = this.context.pages()[0] ?? (await this.context.newPage());
    this.currentPage = page;
    page.setDefaultTimeout(UI_MS);
    page.setDefaultNavigationTimeout(30000);
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') this.problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    await page.goto(base);
    if (this.options.login) await this.logIn(this.options.login.username, this.options.login.password);
    await this.untilLoaded();
  }

  /**
   * Waits for the palette and then the deployed flows: the editor loads them after the palette, and
   * loading them clears the workspace and its dirty flag, so nodes imported before would be lost.
   */
  private async untilLoaded(): Promise<void> {
    const page = this.page;
    await page.locator(`.red-ui-palette-node[data-palette-type="${this.options.readyType}"]`).waitFor({ state: 'attached', timeout: 30000 });
    await page.waitForFunction(() => RED.nodes.version() != null, undefined, { timeout: 30000 });
  }

  /** Fills the editor's login dialog (adminAuth on) and waits until the editor has loaded. */
  logIn = async (username: string, password: string): Promise<void> => {
    const page = this.page;
    await page.locator('#node-dialog-login-username').waitFor({ state: 'visible', timeout: 30000 });
    await page.locator('#node-dialog-login-username').fill(username);
    await page.locator('#node-dialog-login-password').fill(password);
    await page.locator('#node-dialog-login-submit').click();
    await this.untilLoaded();
    // Before the login the editor asked for its settings and got the 401 that shows the login dialog.
    for (let i = this.problems.length - 1; i >= this.problemsSeen; i--) if (/status of 401 .*\/settings\?_=\d+\)$/.test(this.problems[i])) this.problems.splice(i, 1);
  };

  /** Closes Chromium and stops Node-RED (each even if the other fails); rethrows the first failure. */
  async close(): Promise<void> {
    const failures: unknown[] = [];
    if (this.context) await within(this.context.close(), 'closing Chromium', 15000).catch((error) => failures.push(error));
    if (this.profileDir) fs.rmSync(this.profileDir, { recursive: true, force: true });
    if (this.red) await this.red.stop().catch((error) => failures.push(error));
    if (failures.length) throw failures[0];
  }

  /** For an afterEach hook: a screenshot of the page when the step failed. */
  screenshotOnFailure = async (state: string | undefined): Promise<void> => {
    if (state === 'failed' && this.currentPage) {
      await this.currentPage.screenshot({ path: path.join(SHOTS, this.options.failureShot) }).catch(() => undefined);
    }
  };

  /** Fails with every console error, page error or off-site request since the last check. */
  expectNoConsoleErrors = (): void => {
    const fresh = this.problems.slice(this.problemsSeen);
    this.problemsSeen = this.problems.length;
    assert.deepEqual(fresh, [], `the browser reported:\n${fresh.join('\n')}`);
    assert.deepEqual(this.offsite, [], `the editor tried to reach beyond 127.0.0.1: ${this.offsite.join(', ')}`);
  };

  /** Fails with every console error, page error or off-site request of the whole session. */
  expectNoConsoleErrorsInSession = (): void => {
    this.problemsSeen = 0;
    this.expectNoConsoleErrors();
  };

  /**
   * Takes back the one console error a step provoked on purpose: Chromium logs every HTTP
   * error answer of an XHR ("Failed to load resource: … 409 (Conflict) (<url>)").
   */
  expectProvokedError = async (status: number, route: string): Promise<void> => {
    const matches = (problem: string): boolean => problem.startsWith('console error: Failed to load resource') && problem.includes(`status of ${status} `) && problem.endsWith(`${route})`);
    const deadline = Date.now() + UI_MS;
    while (!this.problems.slice(this.problemsSeen).some(matches)) {
      if (Date.now() > deadline) throw new Error(`the ${status} answer of ${route} was not logged`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.problems.splice(
      this.problems.findIndex((problem, index) => index >= this.problemsSeen && matches(problem)),
      1,
    );
  };

  /** Saves a screenshot once the editor's notifications ("Successfully deployed"…) have faded. */
  shot = async (name: string, locator?: Locator): Promise<void> => {
    await this.page.waitForFunction(() => document.querySelectorAll('.red-ui-notification').length === 0, undefined, { timeout: UI_MS });
    const file = path.join(SHOTS, `${name}.png`);
    if (locator) await locator.screenshot({ path: file });
    else await this.page.screenshot({ path: file });
  };

  nodesOfType = async (type: string): Promise<string[]> => {
    return this.page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n: { id: string }) => n.id), type);
  };

  /** Drags `type` from the palette onto the workspace at (x, y); resolves with the new node's id. */
  dragFromPalette = async (type: string, x: number, y: number): Promise<string> => {
    const page = this.page;
    const before = await this.nodesOfType(type);
    const source = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
    await source.scrollIntoViewIfNeeded();
    await page.dragAndDrop(`.red-ui-palette-node[data-palette-type="${type}"]`, '#red-ui-workspace-chart', { targetPosition: { x, y } });
    const handle = await page.waitForFunction(
      ([t, known]) =>
        RED.nodes
          .filterNodes({ type: t })
          .map((n: { id: string }) => n.id)
          .find((id: string) => !known.includes(id)),
      [type, before] as const,
      { timeout: UI_MS },
    );
    const id = (await handle.jsonValue()) as string;
    await page.locator(`[id="${id}"]`).waitFor({ state: 'visible' });
    return id;
  };

  /** Draws a wire from the (first) output port of `from` to the input port of `to`, as a user does with the mouse. */
  wire = async (from: string, to: string): Promise<void> => {
    const page = this.page;
    const output = await page.locator(`[id="${from}"] .red-ui-flow-port-output .red-ui-flow-port`).first().boundingBox();
    const input = await page.locator(`[id="${to}"] .red-ui-flow-port-input .red-ui-flow-port`).first().boundingBox();
    assert.ok(output && input, `${from} has an output port and ${to} an input port`);
    await page.mouse.move(output.x + output.width / 2, output.y + output.height / 2);
    await page.mouse.down();
    await page.mouse.move(input.x + input.width / 2, input.y + input.height / 2, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(([f, t]) => RED.nodes.filterLinks({ source: { id: f }, target: { id: t } }).length === 1, [from, to] as const, { timeout: UI_MS });
  };

  /** The topmost edit tray. */
  tray = (): Locator => this.page.locator('#red-ui-editor-stack .red-ui-tray').last();

  openEditDialog = async (id: string, field: string): Promise<void> => {
    await this.page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
    await this.page.locator(field).waitFor({ state: 'visible' });
  };

  /** Clicks the book button of the topmost tray and checks the help sidebar. */
  expectHelp = async (title: string, phrase: string, details = 'Details'): Promise<void> => {
    await this.tray().locator('.red-ui-tray-footer-left button:has(i.fa-book)').click();
    const help = this.page.locator('.red-ui-sidebar-help-stack');
    await help.locator('h1.red-ui-help-title', { hasText: title }).waitFor({ state: 'visible' });
    await help.locator('h3', { hasText: details }).first().waitFor({ state: 'visible' });
    await help.getByText(phrase, { exact: false }).first().waitFor({ state: 'visible' });
  };

  /**
   * Clicks a button that closes the topmost tray (Done, Add, Cancel…) and waits until it is
   * gone and the tray below is back, or, for the last one, until the editor is usable again.
   * (The editor keeps only the topmost tray in the DOM.)
   */
  closeTray = async (button = '#node-dialog-ok'): Promise<void> => {
    const page = this.page;
    const current = await this.tray().elementHandle();
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
  };

  nodeProperty = async (id: string, key: string): Promise<unknown> => {
    return this.page.evaluate(([i, k]) => RED.nodes.node(i)[k], [id, key] as const);
  };

  /** Widens the topmost tray by dragging its resize handle, as a user would for a long list. */
  widenTray = async (by: number): Promise<void> => {
    const page = this.page;
    const handle = this.tray().locator('.red-ui-tray-resize-handle');
    const box = await handle.boundingBox();
    assert.ok(box, 'the tray has a resize handle');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - by, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
  };

  /** Pastes a flow into the editor's Import dialog and imports it, as a user would; resolves once every node is in the workspace. */
  importFlow = async (flow: ReadonlyArray<{ id: string }>): Promise<void> => {
    const page = this.page;
    await page.evaluate(() => RED.actions.invoke('core:show-import-dialog'));
    const text = page.locator('#red-ui-clipboard-dialog-import-text');
    await text.waitFor({ state: 'visible' });
    await text.fill(JSON.stringify(flow));
    await text.press('End'); // the dialog checks the text on keyup, then enables Import
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await page.waitForFunction(
      (wanted: string[]) => wanted.every((id) => RED.nodes.node(id) || RED.nodes.workspace(id)),
      flow.map((n) => n.id),
      { timeout: UI_MS },
    );
    // Nodes imported into the workspace in view hang at the mouse pointer until a click places them, as for a user.
    if (await page.evaluate(() => RED.view.state() === RED.state.IMPORT_DRAGGING)) {
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      if (chart) await page.mouse.click(chart.x + chart.width / 2, chart.y + chart.height / 2);
      await page.waitForFunction(() => RED.view.state() !== RED.state.IMPORT_DRAGGING, undefined, { timeout: UI_MS });
    }
  };

  /** Clicks Deploy and waits until the editor is done deploying (its spinner and shades gone). */
  deploy = async (): Promise<void> => {
    const page = this.page;
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
  };

  /** Waits until the node's status in the workspace is `fill`/`shape` and its label matches. */
  expectStatus = async (id: string, fill: string, shape: string, text: RegExp): Promise<string> => {
    const page = this.page;
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
      throw new Error(`status of ${id}: expected ${fill} ${shape} ${text}, shows "${classes}" "${shown}"\n${(error as Error).message}`, { cause: error });
    }
    return (await label.textContent()) ?? '';
  };
}
