/**
 * Remote configuration against hostile or careless peers, in a real Node-RED with real
 * clients on 127.0.0.1: bounded size and key count, a bounded publishIntervalMs, the
 * remoteConfig property, writes that never block the event loop, and file names that a
 * node id cannot lead out of <userDir>/realvirtual.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { RealvirtualClient } from '../../engine';
import { configFileName, isInside } from '../../nodes/lib/config-store';
import { Resources } from '../helpers/events';
import { catchNode, connection, deploy, FlowNode, freePort, helperNode, Inbox, load, node, removeDir, TAB, tempDir, unload, user, waitForStatus, within } from './harness';

const MiB = 1024 * 1024;

function configFlow(props: Record<string, unknown>, connectionId = 'conn'): FlowNode[] {
  return [TAB, connection(props, connectionId), { ...user('config', 'config', {}, ['h']), connection: connectionId }, catchNode('catch', 'h-catch'), helperNode('h'), helperNode('h-catch')];
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path.join(dir, entry.name), relative));
    else files.push(relative);
  }
  return files.sort();
}

/** Runs `work` while measuring the event loop's longest delay (printed, never asserted: timings on a shared machine are noise). */
async function printEventLoopDelay<T>(what: string, work: () => Promise<T>): Promise<T> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    return await work();
  } finally {
    histogram.disable();
    console.log(`      max event-loop delay during ${what}: ${(histogram.max / 1e6).toFixed(1)} ms`);
  }
}

describe('nodes: remote configuration limits', function () {
  this.timeout(30000);
  const resources = new Resources();
  let base: string | null = null;
  let userDir = '';

  beforeEach(function () {
    base = tempDir('rv-config-');
    userDir = path.join(base, 'user');
    fs.mkdirSync(userDir);
  });

  afterEach(async function () {
    await unload();
    await resources.closeAll();
    removeDir(base);
    base = null;
  });

  const storeOf = (id = 'conn') => (node(id).connection as any).store as { file: string | null; writes: number; flush(): Promise<void> };
  const cycleOf = () => (node('conn').connection as any).endpoint.cycleMs as number;
  const storedFile = (id = 'conn') => path.join(userDir, 'realvirtual', configFileName(id));

  async function start(props: Record<string, unknown>, connectionId = 'conn'): Promise<number> {
    const port = await freePort();
    await load(configFlow({ port, cycleMs: 10, ...props }, connectionId), { userDir });
    await waitForStatus(node('config'), (status) => status.fill === 'green', 'listening');
    return port;
  }

  async function remote(port: number, options: Record<string, unknown> = {}): Promise<RealvirtualClient> {
    const client = resources.add(new RealvirtualClient({ port, clientName: 'Remote', autoReconnect: false, ...options }));
    await within(client.connect(), 'the remote client to connect');
    return client;
  }

  it('20 config_sets of 2 MiB each are refused (success: false naming maxConfigBytes), nothing is merged or stored, the file stays small', async function () {
    const port = await start({});
    const client = await remote(port);
    await within(client.setConfig({ color: 'red' }), 'a small config_set');
    const inbox = new Inbox('h');
    const results = await printEventLoopDelay('20 × 2 MiB config_set', async () => {
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await within(client.setConfig({ [`blob${i}`]: 'x'.repeat(2 * MiB) }), `config_result ${i}`));
      return answers;
    });
    for (const result of results) {
      assert.equal(result.success, false);
      assert.match(result.message, /more than maxConfigBytes \(262144\): nothing was changed/);
    }
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 10, color: 'red' });
    await within(storeOf().flush(), 'the store to be idle');
    const size = fs.statSync(storedFile()).size;
    console.log(`      stored file after them: ${size} bytes`);
    assert.ok(size < 1024, `the stored file has ${size} bytes`);
    assert.equal(inbox.messages.length, 0, 'a refused config_set is not emitted to the flow');
    // Logged once for the peer, not once per refusal.
    const warnings = node('conn')
      .warn.getCalls()
      .filter((call: { thisValue: unknown; args: unknown[] }) => call.thisValue === node('conn'))
      .map((call: { args: unknown[] }) => String(call.args[0]));
    assert.equal(warnings.filter((text: string) => /maxConfigBytes/.test(text)).length, 1, warnings.join('\n'));
  });

  it('more than 256 top-level keys are refused, from a client and from a realvirtual-config node (ERR_CONFIG_TOO_LARGE, catchable)', async function () {
    const port = await start({ maxConfigBytes: 1024 });
    const client = await remote(port);
    const many: Record<string, number> = {};
    for (let i = 0; i < 256; i++) many[`k${i}`] = i;
    const refused = await within(client.setConfig(many), 'config_result');
    assert.deepEqual(refused, { success: false, message: 'the configuration would have 257 keys, more than the limit of 256: nothing was changed' });

    const caught = new Inbox('h-catch');
    node('config').receive({ payload: many });
    node('config').receive({ payload: { text: 'y'.repeat(1024) } });
    const [tooMany, tooLarge] = await caught.next(2);
    assert.equal(tooMany.error.source.id, 'config');
    assert.match(tooMany.error.message, /257 keys/);
    assert.match(tooLarge.error.message, /more than maxConfigBytes \(1024\)/);
    assert.equal((await waitForStatus(node('config'), (status) => status.fill === 'red', 'red status')).fill, 'red');
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 10 });
  });

  it('a burst of 100 config_sets: all answered, the writes coalesced, the file ends with the last state (flushed on close)', async function () {
    const port = await start({});
    const client = await remote(port);
    const results = await printEventLoopDelay('100 small config_sets', () =>
      within(Promise.all(Array.from({ length: 100 }, (_, i) => client.setConfig({ step: i, note: `set ${i}` }))), '100 config_results'),
    );
    assert.ok(
      results.every((result) => result.success),
      JSON.stringify(results.find((result) => !result.success)),
    );
    const store = storeOf();
    const file = storedFile();
    // Stopping the flows flushes what is pending before the connection is closed.
    await unload();
    const writes = store.writes;
    console.log(`      file writes for 100 config_sets: ${writes}`);
    assert.ok(writes < 100, `${writes} writes were not coalesced`);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).config, { publishIntervalMs: 10, step: 99, note: 'set 99' });
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)], 'no temporary file is left behind');
  });

  it('publishIntervalMs must be 0 or 1 to 60000 ms: 0.0001, 1e308, 2147483647, 60001 and -1 are refused; 0 and 60000 are applied', async function () {
    const port = await start({});
    const client = await remote(port);
    for (const interval of [0.0001, 1e308, 2147483647, 60001, -1, 0.5]) {
      const result = await within(client.setConfig({ publishIntervalMs: interval }), `config_result for ${interval}`);
      assert.equal(result.success, false, `${interval} was accepted`);
      assert.match(result.message, /publishIntervalMs must be 0 \(send each write at once\) or a number of ms from 1 to 60000/);
      assert.equal(cycleOf(), 10);
    }
    for (const interval of [60000, 0, 25]) {
      assert.equal((await within(client.setConfig({ publishIntervalMs: interval }), `config_result for ${interval}`)).success, true);
      assert.equal(cycleOf(), interval);
    }
    assert.throws(
      () => (node('conn').connection as any).endpoint.setCycleMs(2147483647),
      (error: { code: string; message: string }) => error.code === 'ERR_INVALID_OPTION' && /cycleMs/.test(error.message),
    );
    assert.equal(cycleOf(), 25);
  });

  it('a deployed cycleMs out of range is an invalid setting; a stored publishIntervalMs out of range is ignored with a warning', async function () {
    await load(configFlow({ port: await freePort(), cycleMs: 2147483647 }), { userDir });
    const red = await waitForStatus(node('config'), (status) => status.fill === 'red', 'red status');
    assert.match(red.text ?? '', /cycleMs must be 0/);
    await unload();

    fs.mkdirSync(path.join(userDir, 'realvirtual'));
    fs.writeFileSync(storedFile(), JSON.stringify({ deployedCycleMs: 10, config: { publishIntervalMs: 2147483647, color: 'red' } }));
    const port = await start({});
    assert.equal(cycleOf(), 10);
    assert.ok(
      node('conn')
        .warn.getCalls()
        .some((call: { args: unknown[] }) => /ignored the stored publishIntervalMs 2147483647/.test(String(call.args[0]))),
      'no warning',
    );
    const client = await remote(port);
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 10, color: 'red' });
  });

  it('remoteConfig "read-only": config_get answered, config_set refused; the flow may still change it', async function () {
    const port = await start({ remoteConfig: 'read-only' });
    const client = await remote(port);
    const inbox = new Inbox('h');
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 10 });
    assert.deepEqual(await within(client.setConfig({ publishIntervalMs: 99999999 }), 'config_result'), { success: false, message: 'remote configuration is read-only on this connection' });
    assert.deepEqual(await within(client.setConfig({ color: 'red' }), 'config_result'), { success: false, message: 'remote configuration is read-only on this connection' });
    assert.equal(cycleOf(), 10);
    node('config').receive({ payload: { color: 'blue', publishIntervalMs: 20 } });
    assert.deepEqual((await inbox.next(1))[0].payload, { publishIntervalMs: 20, color: 'blue' });
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 20, color: 'blue' });
    assert.equal(inbox.messages.length, 1, 'the refused config_sets were not emitted');
  });

  it('remoteConfig "off": config_get answered with {}, config_set refused; an unknown mode is an invalid setting', async function () {
    const port = await start({ remoteConfig: 'off' });
    const client = await remote(port);
    const inbox = new Inbox('h');
    node('config').receive({ payload: { secretPath: '/plant/line1' } });
    await inbox.next(1);
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), {});
    assert.deepEqual(await within(client.setConfig({ color: 'red' }), 'config_result'), { success: false, message: 'remote configuration is off on this connection' });
    node('config').receive({});
    assert.deepEqual((await inbox.next(1, 1))[0].payload, { publishIntervalMs: 10, secretPath: '/plant/line1' });
    await unload();

    await load(configFlow({ port: await freePort(), remoteConfig: 'sometimes' }), { userDir });
    assert.match((await waitForStatus(node('config'), (status) => status.fill === 'red', 'red status')).text ?? '', /remoteConfig must be "read-write", "read-only" or "off"/);
  });

  it('a stored file far over the limit (a sparse 535 MB one, as older versions could leave) is not read, and is replaced by the next change', async function () {
    fs.mkdirSync(path.join(userDir, 'realvirtual'));
    const handle = fs.openSync(storedFile(), 'w');
    fs.ftruncateSync(handle, 535 * 1000 * 1000);
    fs.closeSync(handle);
    const port = await printEventLoopDelay('start-up with a 535 MB stored file', () => start({}));
    assert.ok(
      node('conn')
        .warn.getCalls()
        .some((call: { args: unknown[] }) => /ignored the stored configuration .*535000000 bytes/.test(String(call.args[0]))),
      'no warning',
    );
    const client = await remote(port);
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 10 });
    await within(client.setConfig({ color: 'red' }), 'config_result');
    await within(storeOf().flush(), 'the store to be idle');
    assert.ok(fs.statSync(storedFile()).size < 1024);
  });

  it('storage written by older versions under <id>.config.json is read once, moved to the new name, and removed', async function () {
    const legacy = path.join(userDir, 'realvirtual', 'conn.config.json');
    fs.mkdirSync(path.dirname(legacy));
    fs.writeFileSync(legacy, `${JSON.stringify({ deployedCycleMs: 10, config: { publishIntervalMs: 40, color: 'red' } }, null, 2)}\n`);
    const port = await start({});
    assert.equal(cycleOf(), 40);
    await within(storeOf().flush(), 'the migration');
    assert.equal(fs.existsSync(legacy), false, 'the old file is still there');
    assert.deepEqual(JSON.parse(fs.readFileSync(storedFile(), 'utf8')), { deployedCycleMs: 10, config: { publishIntervalMs: 40, color: 'red' } });
    const client = await remote(port);
    assert.deepEqual(await within(client.getConfig(), 'config_answer'), { publishIntervalMs: 40, color: 'red' });
  });

  it('file names are digests of the id, and any path not directly inside the directory is refused', function () {
    assert.match(configFileName('../../victim/app'), /^[0-9a-f]{32}\.config\.json$/);
    assert.notEqual(configFileName('a'), configFileName('b'));
    const dir = path.join(userDir, 'realvirtual');
    assert.equal(isInside(dir, path.join(dir, configFileName('x'))), true);
    for (const name of ['../../victim/app.config.json', '../x.config.json', 'sub/x.config.json', '.', '']) assert.equal(isInside(dir, path.join(dir, name)), false, name);
  });

  it('a connection whose id is "../../victim/app" creates and deletes nothing outside <userDir>/realvirtual', async function () {
    const id = '../../victim/app';
    const victim = path.join(base!, 'victim', 'app.config.json');
    fs.mkdirSync(path.dirname(victim));
    fs.writeFileSync(victim, 'precious');
    const port = await start({}, id);
    const client = await remote(port);
    assert.equal((await within(client.setConfig({ color: 'red' }), 'config_result')).success, true);
    await within(storeOf(id).flush(), 'the store to be idle');
    const inside = `user${path.sep}realvirtual${path.sep}${configFileName(id)}`;
    assert.deepEqual(filesUnder(base!), [inside, `victim${path.sep}app.config.json`].sort());
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    await client.close();

    // Removing the connection removes its own file only.
    await deploy([TAB, helperNode('h')], 'full');
    assert.deepEqual(filesUnder(base!), [`victim${path.sep}app.config.json`]);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  });
});
