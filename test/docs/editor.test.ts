import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import { CONNECTION_DEFAULTS, readConnectionSettings } from '../../nodes/lib/connection-settings';
import { IMPORT_DEFAULTS } from '../../nodes/lib/import-settings';
import { MINVR_CONNECTION_DEFAULTS, readMinVRSettings, SENDABLE_TYPES } from '../../nodes/lib/minvr-settings';
import { FIRST_CONTRACT_FLOW, FlowNode } from '../browser/first-contract-flow';
import { repoRoot } from '../repo';

const root = repoRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const types: string[] = Object.keys(pkg['node-red'].nodes);
/** The config node types: one per node family (realvirtual-*, minvr-*). */
const CONFIG_TYPES = ['realvirtual-connection', 'minvr-connection'];

/** The config node type a node's `connection` property refers to. */
function connectionTypeOf(type: string): string {
  return type.startsWith('minvr-') ? 'minvr-connection' : 'realvirtual-connection';
}

interface Registration {
  type: string;
  definition: Record<string, any>;
}

/**
 * The editor's own RED.validators (number, regex, typedInput), taken from the Node-RED editor's
 * red.js, so that validity below is judged by the validators the editor runs, not by stand-ins.
 */
function editorValidators(): Record<string, (...args: unknown[]) => (value: unknown, opt?: unknown) => unknown> {
  const source = fs.readFileSync(require.resolve('@node-red/editor-client/public/red/red.js'), 'utf8');
  const block = /\nRED\.validators = \{[\s\S]*?\n\};/.exec(source);
  assert.ok(block, "the editor's red.js defines RED.validators");
  const RED = { _: (key: string) => key };
  vm.runInNewContext(block[0], { RED });
  return (RED as unknown as { validators: ReturnType<typeof editorValidators> }).validators;
}
const validators = editorValidators();

/** Runs a node's editor script with stand-ins for the editor globals (but the real validators) and captures registerType. */
/** The script blocks of realvirtual-connection.html after its registration: the helpers every realvirtual dialog shares. */
const sharedEditorScript = [...fs.readFileSync(path.join(root, 'nodes', 'realvirtual-connection.html'), 'utf8').matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)]
  .slice(1)
  .map((match) => match[1])
  .join('\n');

function registrationOf(type: string): Registration {
  const html = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(script, `${type}.html has a <script type="text/javascript">`);
  assert.match(script[1], new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`), `${type}.html registers its type literally`);
  const registrations: Registration[] = [];
  const RED = {
    nodes: { registerType: (name: string, definition: Record<string, unknown>) => registrations.push({ type: name, definition }) },
    validators,
    _: (key: string) => key,
  };
  // The realvirtual dialogs share helpers (window.RealvirtualEditor) that realvirtual-connection.html defines.
  vm.runInNewContext(`${sharedEditorScript}\n${script[1]}`, { RED, $: () => undefined, window: {} });
  assert.equal(registrations.length, 1);
  return registrations[0];
}

/** What the editor makes of a validator's answer: a string (a reason) or a falsy value means invalid. */
function isValid(answer: unknown): boolean {
  return typeof answer !== 'string' && !Array.isArray(answer) && !!answer;
}

/**
 * Whether the editor accepts `value` for `key` of a node (the node is `this` of the validator):
 * the checks of the editor's validateNodeProperty for a property that is not a config node
 * reference (required fails on "", then the property's validator).
 */
function accepts(registration: Registration, key: string, value: unknown, node: Record<string, unknown> = {}): boolean {
  const spec = registration.definition.defaults[key] as { required?: boolean; validate?: (this: unknown, value: unknown, opt?: unknown) => unknown };
  if (spec.required && value === '') return false;
  return spec.validate ? isValid(spec.validate.call(node, value, {})) : true;
}

/** The properties of a node type that are values, not references to config nodes. */
function valueKeys(registration: Registration): string[] {
  return Object.entries(registration.definition.defaults as Record<string, { type?: string }>)
    .filter(([, spec]) => !spec.type)
    .map(([key]) => key);
}

function defaultsOf(registration: Registration): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(registration.definition.defaults as Record<string, { value?: unknown; type?: string }>)) {
    values[key] = spec.type ? '' : spec.value;
  }
  return values;
}

describe('editor', () => {
  it('registers every node type of package.json, in the realvirtual palette category', () => {
    for (const type of types) {
      const registration = registrationOf(type);
      assert.equal(registration.type, type);
      const expected = CONFIG_TYPES.includes(type) ? 'config' : 'realvirtual';
      assert.equal(registration.definition.category, expected, `${type} category`);
      if (!CONFIG_TYPES.includes(type)) {
        assert.ok(fs.existsSync(path.join(root, 'icons', registration.definition.icon)), `${type} icon exists`);
        assert.equal((registration.definition.defaults.connection as { type: string }).type, connectionTypeOf(type), `${type} connection type`);
      }
    }
  });

  it("gives realvirtual-connection exactly the runtime's property defaults", () => {
    const editor = JSON.parse(JSON.stringify(defaultsOf(registrationOf('realvirtual-connection'))));
    assert.deepEqual(editor, { ...CONNECTION_DEFAULTS });
  });

  it("gives realvirtual-import the runtime's timeout default", () => {
    assert.equal(defaultsOf(registrationOf('realvirtual-import')).timeout, IMPORT_DEFAULTS.timeout);
  });

  it("gives minvr-connection exactly the runtime's property defaults", () => {
    const editor = JSON.parse(JSON.stringify(defaultsOf(registrationOf('minvr-connection'))));
    assert.deepEqual(editor, { ...MINVR_CONNECTION_DEFAULTS });
  });

  it('labels a connection without name, host or port by the registered defaults, an IPv6 host in brackets', () => {
    for (const [type, absent, expected] of [
      ['realvirtual-connection', {}, `server @ ${CONNECTION_DEFAULTS.host}:${CONNECTION_DEFAULTS.port}`],
      ['realvirtual-connection', { mode: 'client', host: '::1', port: 0, path: '/rv' }, 'client → [::1]:0/rv'],
      ['minvr-connection', { host: '' }, `minvr tcp://${MINVR_CONNECTION_DEFAULTS.host}:${MINVR_CONNECTION_DEFAULTS.port} (server)`],
      ['minvr-connection', { transport: 'websocket', mode: 'client', host: 'fe80::1' }, `minvr ws://[fe80::1]:${MINVR_CONNECTION_DEFAULTS.port}${MINVR_CONNECTION_DEFAULTS.path} (client)`],
    ] as const) {
      const registration = registrationOf(type);
      const label = registration.definition.label as (this: unknown) => string;
      assert.equal(label.call({ ...absent, _def: registration.definition }), expected, `${type} ${JSON.stringify(absent)}`);
    }
  });

  it("offers minvr-out's data types: inference, then exactly the runtime's sendable types", () => {
    const html = fs.readFileSync(path.join(root, 'nodes', 'minvr-out.html'), 'utf8');
    const select = /<select id="node-input-dataType"[^>]*>([\s\S]*?)<\/select>/.exec(html);
    assert.ok(select, 'minvr-out.html has a dataType select');
    const values = [...select[1].matchAll(/<option value="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(values, ['', ...SENDABLE_TYPES]);
    assert.equal(defaultsOf(registrationOf('minvr-out')).dataType, '');
  });

  it('has help with Inputs/Outputs/Details and labels for every node in en-US', () => {
    for (const type of types) {
      const help = fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${type}"`));
      assert.match(help, /<h3>Details<\/h3>/, `${type} help has Details`);
      const registration = registrationOf(type);
      if (registration.definition.inputs > 0) assert.match(help, /<h3>Inputs<\/h3>/, `${type} help has Inputs`);
      if (registration.definition.outputs > 0) assert.match(help, /<h3>Outputs<\/h3>/, `${type} help has Outputs`);
    }
  });

  it('has a message catalog entry for every data-i18n key the edit dialogs use', () => {
    for (const type of types) {
      const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.json`), 'utf8'));
      const html = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8');
      const keys = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((match) => match[1]);
      assert.ok(keys.length > 0, `${type} dialog uses i18n labels`);
      for (const key of keys) {
        const value = key.split('.').reduce<any>((node, part) => (node === undefined ? undefined : node[part]), catalog);
        assert.equal(typeof value, 'string', `${type}: "${key}" is missing from locales/en-US/${type}.json`);
      }
    }
  });

  it('uses only message keys that exist in the catalogs, at run time too', () => {
    const catalogs: Record<string, any> = {};
    for (const file of fs.readdirSync(path.join(root, 'locales', 'en-US')).filter((name) => name.endsWith('.json'))) {
      catalogs[path.basename(file, '.json')] = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', file), 'utf8'));
    }
    const sources = fs.readdirSync(path.join(root, 'nodes')).filter((file) => file.endsWith('.ts'));
    for (const entry of fs.readdirSync(path.join(root, 'nodes', 'lib'), { withFileTypes: true })) {
      if (entry.isFile()) sources.push(path.join('lib', entry.name));
      // Modules grouped in a folder (lib/monitor/…).
      else if (entry.isDirectory()) sources.push(...fs.readdirSync(path.join(root, 'nodes', 'lib', entry.name)).map((file) => path.join('lib', entry.name, file)));
    }
    // The namespaces of shared messages, e.g. CONNECTION_NAMESPACE = 'node-red-contrib-realvirtual/realvirtual-connection'.
    const namespaces = new Map<string, string>();
    for (const file of sources) {
      const text = fs.readFileSync(path.join(root, 'nodes', file), 'utf8');
      for (const match of text.matchAll(/export const ([A-Z_]*CONNECTION_NAMESPACE) = '([^']+)'/g)) namespaces.set(match[1], match[2]);
    }
    // `_('owner.key')`, `_(`${CONNECTION_NAMESPACE}:owner.key`)`, and a `${MINVR_CONNECTION_NAMESPACE}:owner.key` handed on to be translated.
    const keyPattern = /(?:_\(\s*[`'"](?:\$\{([A-Z_]*CONNECTION_NAMESPACE)\}:)?|`\$\{([A-Z_]*CONNECTION_NAMESPACE)\}:)((?:realvirtual|minvr)-[a-z]+)\.([a-zA-Z.-]+)[`'"]/g;
    let checked = 0;
    for (const file of sources) {
      const text = fs.readFileSync(path.join(root, 'nodes', file), 'utf8');
      for (const match of text.matchAll(keyPattern)) {
        const [, calledWith, handedOn, owner, rest] = match;
        const namespace = calledWith ?? handedOn;
        if (namespace) assert.equal(namespaces.get(namespace), `${pkg.name}/${owner}`, `${file}: ${namespace} is not the namespace of ${owner}`);
        const value = rest.split('.').reduce<any>((node, part) => (node === undefined ? undefined : node[part]), catalogs[owner]?.[owner]);
        assert.equal(typeof value, 'string', `${file}: ${owner}.${rest} is missing from locales/en-US/${owner}.json`);
        checked++;
      }
    }
    assert.ok(checked > 10, `only ${checked} message keys found in nodes/`);
  });

  describe('flows saved by earlier versions and bad values', () => {
    it('accepts every value property of every node type absent or empty (it means the default), and its default', () => {
      for (const type of types) {
        const registration = registrationOf(type);
        const defaults = defaultsOf(registration);
        for (const key of valueKeys(registration)) {
          assert.ok(accepts(registration, key, undefined), `${type}.${key} absent is invalid in the editor`);
          assert.ok(accepts(registration, key, ''), `${type}.${key} empty is invalid in the editor`);
          assert.ok(accepts(registration, key, defaults[key]), `${type}.${key} rejects its own default ${JSON.stringify(defaults[key])}`);
        }
      }
    });

    it('rejects text in every number property, and a number out of the range the runtime accepts', () => {
      for (const type of CONFIG_TYPES) {
        const registration = registrationOf(type);
        const defaults = defaultsOf(registration);
        const numbers = valueKeys(registration).filter((key) => typeof defaults[key] === 'number');
        assert.ok(numbers.length >= 4, `${type} has number properties`);
        for (const key of numbers) {
          assert.equal(accepts(registration, key, 'abc'), false, `${type}.${key} accepts "abc"`);
          assert.ok(accepts(registration, key, String(defaults[key])), `${type}.${key} rejects its default as the dialog saves it (text)`);
        }
      }
      const realvirtual = registrationOf('realvirtual-connection');
      const minvr = registrationOf('minvr-connection');
      for (const registration of [realvirtual, minvr]) {
        const port = (value: unknown, mode: string): boolean => accepts(registration, 'port', value, { mode });
        assert.deepEqual(
          [port('0', 'server'), port(65535, 'server'), port('0', 'client'), port('65536', 'server'), port('1.5', 'server'), port('-1', 'server'), port(' ', 'server')],
          [true, true, false, false, false, false, false],
          `${registration.type} port: 0 only for a server, 1..65535, whole`,
        );
        assert.equal(accepts(registration, 'mode', 'both'), false, `${registration.type} mode "both"`);
      }
      assert.equal(accepts(realvirtual, 'maxPayload', '0'), false);
      assert.equal(accepts(realvirtual, 'maxClients', '1.5'), false);
      assert.equal(accepts(realvirtual, 'maxReconnectAttempts', '-2'), false);
      assert.equal(accepts(realvirtual, 'cycleMs', '-1'), false);
      assert.equal(accepts(realvirtual, 'defaultDirection', 'sideways'), false);
      assert.equal(accepts(minvr, 'transport', 'udp'), false);
      assert.equal(accepts(minvr, 'frameTimeout', '3601'), false);
    });

    it('the first-contract flow lacks properties added since, and at run time they mean their defaults', () => {
      const added = (type: string): string[] => {
        const node = FIRST_CONTRACT_FLOW.find((n) => n.type === type) as FlowNode;
        const keys = Object.keys(registrationOf(type).definition.defaults);
        assert.deepEqual(
          Object.keys(node).filter((key) => !['id', 'type', 'z', 'x', 'y', 'wires'].includes(key) && !keys.includes(key)),
          [],
          `${type}: the fixture has a property the node no longer has`,
        );
        return keys.filter((key) => !(key in node));
      };
      for (const key of ['allowedOrigins', 'maxClients', 'slowPeerTimeout']) assert.ok(added('realvirtual-connection').includes(key), key);
      for (const key of ['frameTimeout', 'autoReconnect', 'reconnectInterval']) assert.ok(added('minvr-connection').includes(key), key);
      assert.deepEqual(added('realvirtual-out'), ['signal', 'rename']);
      assert.deepEqual(added('realvirtual-in'), ['rename']);
      for (const n of FIRST_CONTRACT_FLOW.filter((node) => node.type === 'realvirtual-connection')) {
        assert.deepEqual(readConnectionSettings(n), readConnectionSettings({ ...CONNECTION_DEFAULTS, ...n }), `${n.id} at run time`);
      }
      const minvr = FIRST_CONTRACT_FLOW.find((n) => n.type === 'minvr-connection') as FlowNode;
      assert.deepEqual(readMinVRSettings(minvr), readMinVRSettings({ ...MINVR_CONNECTION_DEFAULTS, ...minvr }));
    });

    it('gives every node of this package in examples/ and bench/flows/ every property of its type, each valid', () => {
      const files = [
        ...fs
          .readdirSync(path.join(root, 'examples'))
          .filter((name) => name.endsWith('.json'))
          .map((name) => path.join('examples', name)),
        ...fs
          .readdirSync(path.join(root, 'bench', 'flows'))
          .filter((name) => name.endsWith('.json'))
          .map((name) => path.join('bench', 'flows', name)),
      ];
      const registrations = new Map(types.map((type) => [type, registrationOf(type)]));
      let checked = 0;
      for (const file of files) {
        const flow = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as FlowNode[];
        for (const n of flow) {
          const registration = registrations.get(n.type);
          if (!registration) continue;
          const missing = Object.keys(registration.definition.defaults).filter((key) => !(key in n));
          assert.deepEqual(missing, [], `${file}: ${n.type} ${n.id} lacks ${missing.join(', ')}`);
          for (const key of valueKeys(registration)) assert.ok(accepts(registration, key, n[key], n), `${file}: ${n.type} ${n.id}.${key} = ${JSON.stringify(n[key])} is invalid`);
          checked++;
        }
      }
      assert.ok(checked >= 30, `only ${checked} nodes of this package in the example and bench flows`);
    });
  });

  it("gives every connection node the status messages the runtime's status mapping uses", () => {
    const text = fs.readFileSync(path.join(root, 'nodes', 'lib', 'status.ts'), 'utf8');
    const keys = [...new Set([...text.matchAll(/\bt\('([a-zA-Z-]+)'/g)].map((match) => match[1]))];
    assert.ok(keys.length >= 5, `status.ts uses ${JSON.stringify(keys)}`);
    for (const type of CONFIG_TYPES.filter((config) => types.includes(config))) {
      const catalog = JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', `${type}.json`), 'utf8'));
      for (const key of keys) assert.equal(typeof catalog[type].status?.[key], 'string', `${type}.status.${key} is missing from locales/en-US/${type}.json`);
    }
  });
});
