import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import { CONNECTION_DEFAULTS } from '../../nodes/lib/connection-settings';
import { MINVR_CONNECTION_DEFAULTS, SENDABLE_TYPES } from '../../nodes/lib/minvr-settings';
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

/** Runs a node's editor script with stand-ins for the editor globals and captures registerType. */
function registrationOf(type: string): Registration {
  const html = fs.readFileSync(path.join(root, 'nodes', `${type}.html`), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(script, `${type}.html has a <script type="text/javascript">`);
  assert.match(script[1], new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`), `${type}.html registers its type literally`);
  const registrations: Registration[] = [];
  const RED = {
    nodes: { registerType: (name: string, definition: Record<string, unknown>) => registrations.push({ type: name, definition }) },
    validators: { number: () => () => true, regex: () => () => true },
    _: (key: string) => key,
  };
  vm.runInNewContext(script[1], { RED, $: () => undefined });
  assert.equal(registrations.length, 1);
  return registrations[0];
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

  it("gives minvr-connection exactly the runtime's property defaults", () => {
    const editor = JSON.parse(JSON.stringify(defaultsOf(registrationOf('minvr-connection'))));
    assert.deepEqual(editor, { ...MINVR_CONNECTION_DEFAULTS });
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
