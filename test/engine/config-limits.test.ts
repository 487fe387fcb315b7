/**
 * The engine's bounds on remote configuration, over real sockets: the cycle range,
 * maxConfigBytes and the key count, and remoteConfig, on the server and on the client
 * (a server may send a client config_get / config_set too).
 */
import assert from 'assert/strict';
import { RealvirtualClient, RealvirtualServer, ServerOptions } from '../../engine';
import { MAX_CONFIG_KEYS } from '../../engine/realvirtual/config-rules';
import { nextEvent, RawClient, RawServer, Resources, within } from '../helpers/events';

describe('engine: remote configuration limits', function () {
  const resources = new Resources();

  afterEach(async function () {
    await resources.closeAll();
  });

  async function serverAndClient(options: ServerOptions): Promise<{ server: RealvirtualServer; client: RawClient }> {
    const server = resources.add(new RealvirtualServer({ port: 0, host: '127.0.0.1', ...options }));
    await within(server.listen(), 'the server to listen');
    const connected = nextEvent(server, 'connect');
    const client = resources.add(await RawClient.connect(`ws://127.0.0.1:${server.port}/`));
    await connected;
    return { server, client };
  }

  async function ask(client: RawClient, message: object, answerType: string): Promise<Record<string, unknown>> {
    const from = client.mark();
    client.send(message);
    return client.waitFor((frame) => frame.type === answerType, answerType, undefined, from) as Promise<Record<string, unknown>>;
  }

  it('cycleMs and publishIntervalMs: 0 or 1 to 60000 ms, in the options, in setCycleMs and from a peer', async function () {
    for (const cycleMs of [-1, 0.5, 60001, 2147483647, 1e308, Number.NaN]) {
      assert.throws(
        () => new RealvirtualServer({ cycleMs }),
        (error: { code: string; message: string }) => error.code === 'ERR_INVALID_OPTION' && /cycleMs must be 0/.test(error.message),
        String(cycleMs),
      );
    }
    const { server, client } = await serverAndClient({ cycleMs: 20 });
    assert.throws(() => server.setCycleMs(2147483647), /cycleMs must be 0 \(send each write at once\) or a number of ms from 1 to 60000/);
    server.setCycleMs(60000);
    server.setCycleMs(0);
    const refused = await ask(client, { type: 'config_set', version: 2, config: { publishIntervalMs: 2147483647 } }, 'config_result');
    assert.equal(refused.success, false);
    assert.match(String(refused.message), /publishIntervalMs must be 0/);
    assert.equal(server.cycleMs, 0);
  });

  it('maxConfigBytes and the key count bound the merged configuration; nothing is merged beyond them', async function () {
    assert.throws(() => new RealvirtualServer({ maxConfigBytes: 0 }), /maxConfigBytes must be a whole number >= 1/);
    const { server, client } = await serverAndClient({ maxConfigBytes: 100, config: { a: 'x'.repeat(40) } });
    const problem = nextEvent(server, 'problem');
    const tooLarge = await ask(client, { type: 'config_set', version: 2, config: { b: 'y'.repeat(40) } }, 'config_result');
    assert.equal(tooLarge.success, false);
    assert.match(String(tooLarge.message), /bytes of JSON, more than maxConfigBytes \(100\): nothing was changed/);
    assert.equal((await problem)[0].code, 'ERR_CONFIG_TOO_LARGE');
    assert.deepEqual(Object.keys(server.config).sort(), ['a', 'publishIntervalMs']);
    // The same limits for the local API.
    assert.throws(
      () => server.mergeConfig({ b: 'y'.repeat(40) }),
      (error: { code: string }) => error.code === 'ERR_CONFIG_TOO_LARGE',
    );
    const keys: Record<string, number> = {};
    for (let i = 0; i < MAX_CONFIG_KEYS; i++) keys[String(i)] = i;
    const wide = resources.add(new RealvirtualServer({ maxConfigBytes: 1024 * 1024 }));
    assert.throws(() => wide.mergeConfig(keys), /would have 257 keys, more than the limit of 256/);
    delete keys['0'];
    assert.equal(Object.keys(wide.mergeConfig(keys)).length, MAX_CONFIG_KEYS);
  });

  it('remoteConfig: "read-only" refuses config_set, "off" answers config_get with {} and refuses config_set; an unknown mode throws', async function () {
    assert.throws(() => new RealvirtualServer({ remoteConfig: 'sometimes' as never }), /remoteConfig must be "read-write", "read-only" or "off"/);
    const readOnly = await serverAndClient({ remoteConfig: 'read-only', cycleMs: 20, config: { color: 'red' } });
    assert.deepEqual((await ask(readOnly.client, { type: 'config_get', version: 2 }, 'config_answer')).config, { color: 'red', publishIntervalMs: 20 });
    const refused = await ask(readOnly.client, { type: 'config_set', version: 2, config: { publishIntervalMs: 40 } }, 'config_result');
    assert.deepEqual([refused.success, refused.message], [false, 'remote configuration is read-only on this connection']);
    assert.equal(readOnly.server.cycleMs, 20);

    const off = await serverAndClient({ remoteConfig: 'off', config: { color: 'red' } });
    assert.deepEqual((await ask(off.client, { type: 'config_get', version: 2 }, 'config_answer')).config, {});
    const offResult = await ask(off.client, { type: 'config_set', version: 2, config: { color: 'blue' } }, 'config_result');
    assert.deepEqual([offResult.success, offResult.message], [false, 'remote configuration is off on this connection']);
    assert.equal(off.server.config.color, 'red');
  });

  it('a client with remoteConfig "off" answers a server\'s config_get with {} and refuses its config_set', async function () {
    const raw = resources.add(await RawServer.start());
    const client = resources.add(new RealvirtualClient({ port: raw.port, autoReconnect: false, remoteConfig: 'off', config: { color: 'red' } }));
    await within(client.connect(), 'the client to connect');
    const server = await raw.connection(0);
    server.send({ type: 'config_get', version: 2 });
    assert.deepEqual((await server.waitFor((frame) => frame.type === 'config_answer', 'config_answer')).config, {});
    server.send({ type: 'config_set', version: 2, config: { color: 'blue' } });
    const result = await server.waitFor((frame) => frame.type === 'config_result', 'config_result');
    assert.deepEqual([result.success, result.message], [false, 'remote configuration is off on this connection']);
    assert.equal(client.config.color, 'red');
  });
});
