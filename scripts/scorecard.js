'use strict';
// `npm run scorecard`: the Node-RED Flow Library scorecard (`node-red-dev validate`)
// without network access. It packs the package as npm would publish it (`npm pack`),
// unpacks it into a temporary folder and runs node-red-dev's own check functions
// (checkpackage, checknodes, checkdeps) on it. Where node-red-dev would ask the network,
// local facts stand in, and each such check says so:
//   P06, P07  npm's node-red metadata  → the Node-RED versions installed here
//             (node_modules/node-red, and .nr5/node_modules/node-red when `npm run test:nr5` installed it)
//   D02       npm-remote-ls            → the installed dependency tree (node_modules)
//   D03       npm-check (npm "latest") → the installed versions of the dependencies
//   N01, P08  the Flow Library catalogue → not run (reported as skipped)
// Any other network access fails. Prints one line per check ID; exits 1 if any fails.
//
//   node scripts/scorecard.js [--verbose] [--dir <unpacked package>]
//   --verbose  also prints node-red-dev's own lines
//   --dir      checks that folder (a package as npm would unpack it) instead of packing this one
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');
const net = require('net');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const verbose = process.argv.includes('--verbose');
const dirArg = process.argv.indexOf('--dir');
const givenDir = dirArg > 0 && process.argv[dirArg + 1] ? path.resolve(process.argv[dirArg + 1]) : null;
const devRoot = path.dirname(require.resolve('node-red-dev/package.json', { paths: [root] }));
const devLibs = path.join(devRoot, 'src', 'libs');
const fromDev = (name) => require(require.resolve(name, { paths: [devLibs] }));
const semver = fromDev('semver');
const tar = fromDev('tar');

const IDS = ['P01', 'P02', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];
const SKIPPED = {
  P02: 'disabled in node-red-dev itself (it would clone the repository)',
  P08: 'needs the Flow Library catalogue (network)',
  N01: 'needs the Flow Library catalogue (network)',
};

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The package as `npm pack` builds it, unpacked into `dir`/package. */
async function packInto(dir) {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { cwd: root, stdio: 'inherit' });
  }
  const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null;
  const args = ['pack', '--offline', '--no-update-notifier', '--ignore-scripts', '--json', '--pack-destination', dir];
  const stdout = npmCli
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    : execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  const unpacked = path.join(dir, 'package');
  fs.mkdirSync(unpacked);
  await tar.x({ file: path.join(dir, packed.filename), cwd: unpacked, strip: 1 });
  return { filename: packed.filename, dir: unpacked };
}

/** Installed Node-RED versions, newest first: [{version, engines}]. */
function installedNodeRed() {
  const found = [];
  for (const dir of [path.join(root, 'node_modules', 'node-red'), path.join(root, '.nr5', 'node_modules', 'node-red')]) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const { version, engines } = readJson(manifest);
      if (!found.some((f) => f.version === version)) found.push({ version, engines: engines || {} });
    }
  }
  return found.sort((a, b) => semver.rcompare(a.version, b.version));
}

/** npm's node-red document, as far as P06 and P07 read it, built from the installed versions. */
function nodeRedPackument(versions) {
  if (versions.length === 0) throw new Error('no Node-RED installed in node_modules: run npm install');
  const distTags = { latest: versions[0].version };
  for (const { version } of versions.slice(1)) distTags[`maintenance-v${semver.major(version)}`] = version;
  return { 'dist-tags': distTags, versions: Object.fromEntries(versions.map((v) => [v.version, { engines: v.engines }])) };
}

/** The installed package.json of a dependency (resolved from the repository). */
function installedManifest(name, from = root) {
  try {
    return readJson(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    const dir = path.join(root, 'node_modules', name, 'package.json');
    return fs.existsSync(dir) ? readJson(dir) : null;
  }
}

/** name@version of a dependency and everything it depends on, as installed. */
function installedTree(name) {
  const seen = new Map();
  const visit = (dep, from) => {
    let file;
    try {
      file = require.resolve(`${dep}/package.json`, { paths: [from] });
    } catch {
      return;
    }
    const manifest = readJson(file);
    const key = `${manifest.name}@${manifest.version}`;
    if (seen.has(key)) return;
    seen.set(key, true);
    for (const child of Object.keys(manifest.dependencies || {})) visit(child, path.dirname(file));
  };
  visit(name, root);
  return [...seen.keys()];
}

const facts = { nodeRed: installedNodeRed(), trees: {}, deps: [] };

/** Stand-ins for what node-red-dev fetches from the network. */
const stubs = {
  axios: {
    get(url) {
      if (url === 'https://registry.npmjs.org/node-red') return Promise.resolve({ data: nodeRedPackument(facts.nodeRed) });
      if (url === 'https://catalogue.nodered.org/catalogue.json') return Promise.resolve({ data: { modules: [] } }); // N01/P08: reported as skipped
      return Promise.reject(new Error(`scorecard: network access blocked (${url})`));
    },
  },
  'npm-remote-ls': {
    config() {},
    ls(name, _version, flatten, callback) {
      const list = installedTree(name);
      facts.trees[name] = list;
      callback(flatten ? list : {});
    },
  },
  'npm-check': async ({ cwd }) => {
    const manifest = readJson(path.join(cwd, 'package.json'));
    const packages = Object.entries(manifest.dependencies || {}).map(([moduleName, range]) => {
      const installed = installedManifest(moduleName);
      const version = installed ? installed.version : null;
      // As npm-check decides: an easy upgrade when "latest" satisfies the range. Offline, latest = installed.
      const latest = version;
      const easyUpgrade = Boolean(semver.validRange(range) && semver.valid(version) && semver.satisfies(latest, range));
      facts.deps.push({ moduleName, range, version });
      return { moduleName, packageJson: range, latest, installed: version, easyUpgrade };
    });
    return { get: (key) => (key === 'packages' ? packages : undefined) };
  },
  readline: { createInterface: () => ({ close() {}, on() {} }) },
};

/** Loads node-red-dev's check modules with the stand-ins above instead of their network modules. */
function loadChecks() {
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (parent && parent.filename && parent.filename.startsWith(devLibs + path.sep) && Object.prototype.hasOwnProperty.call(stubs, request)) {
      return stubs[request];
    }
    return load.call(this, request, parent, isMain);
  };
  try {
    return {
      checkpackage: require(path.join(devLibs, 'checkpackage.js')),
      checknodes: require(path.join(devLibs, 'checknodes.js')),
      checkdeps: require(path.join(devLibs, 'checkdeps.js')),
    };
  } finally {
    Module._load = load;
  }
}

/** Makes every outgoing connection of this process fail: the checks run offline. */
function blockNetwork() {
  net.Socket.prototype.connect = function () {
    throw new Error('scorecard: network access blocked');
  };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-scorecard-'));
  try {
    const packed = givenDir ? { filename: givenDir, dir: givenDir } : await packInto(work);
    blockNetwork();
    const { checkpackage, checknodes, checkdeps } = loadChecks();
    const lines = [];
    const problems = [];
    const cli = {
      log: (text) => lines.push(`  ${text}`),
      warn: (text) => lines.push(`  ⚠ ${text}`),
      error: (error) => problems.push(error instanceof Error ? error.message : String(error)),
    };
    // checknodes reports an HTML file it cannot read with console.log and then ignores that node.
    const unreadable = [];
    const consoleLog = console.log;
    console.log = (...args) => {
      if (args[0] === 'Unable to parse ') unreadable.push(String(args[1]));
      else lines.push(`  ${args.join(' ')}`);
    };
    const scorecard = {};
    try {
      await checkpackage(packed.dir, cli, scorecard, false);
      await checknodes(packed.dir, cli, scorecard, false);
      await checkdeps(packed.dir, cli, scorecard, false);
    } finally {
      console.log = consoleLog;
    }

    const pkg = readJson(path.join(packed.dir, 'package.json'));
    const nodeRedVersions = facts.nodeRed.map((v) => v.version).join(', ');
    const details = {
      P01: () => `license ${pkg.license}`,
      P03: () => 'repository / bugs link given',
      P04: () => `name ${pkg.name}`,
      P05: () => 'keywords include "node-red"',
      P06: () =>
        `node-red.version "${pkg['node-red'] && pkg['node-red'].version}" fits Node-RED ${((scorecard.P06 && scorecard.P06.versions) || []).join(', ') || 'none'} (offline: installed Node-RED ${nodeRedVersions} stand in for npm's dist-tags)`,
      P07: () =>
        `engines.node "${pkg.engines && pkg.engines.node}" admits Node.js ${semver.minVersion(facts.nodeRed[0].engines.node)}, the minimum of Node-RED ${facts.nodeRed[0].version} (offline: the newest installed Node-RED stands in for npm's latest)`,
      N02: () => `examples/*.json use ${((scorecard.N02 && scorecard.N02.nodes) || []).join(', ') || 'no node'}`,
      D01: () => `${scorecard.D01.total} dependenc${scorecard.D01.total === 1 ? 'y' : 'ies'} (at most 6)`,
      D02: () => `no known incompatible package in ${Object.values(facts.trees).flat().join(', ') || 'the (empty) dependency tree'} (offline: the installed tree)`,
      D03: () => `${facts.deps.map((d) => `${d.moduleName} ${d.version} satisfies ${d.range}`).join(', ') || 'no dependencies'} (offline: installed versions; npm's latest is not consulted)`,
    };
    // node-red-dev 0.1.6 records P05 as passed even when it warns that the keyword is missing.
    if (lines.some((line) => line.includes('P05 Package.json keywords MUST contain node-red'))) scorecard.P05 = { test: false };
    if (unreadable.length > 0) {
      scorecard.N02 = { test: false };
      details.N02 = () => `node definitions not readable (a literal registerType('type', {...}) inside <script type="text/javascript">): ${unreadable.join(', ')}`;
    }

    if (verbose) process.stdout.write(`${lines.join('\n')}\n\n`);
    process.stdout.write(`node-red-dev ${readJson(path.join(devRoot, 'package.json')).version} validate, offline, on ${packed.filename}${givenDir ? '' : ' (npm pack)'}\n`);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const id of IDS) {
      if (SKIPPED[id]) {
        skipped++;
        process.stdout.write(`${id} skip  ${SKIPPED[id]}\n`);
        continue;
      }
      const result = scorecard[id];
      const ok = Boolean(result && result.test === true);
      if (ok) passed++;
      else failed++;
      let detail = '';
      try {
        detail = details[id] ? details[id]() : '';
      } catch {
        detail = '';
      }
      if (!result) detail = 'did not run';
      else if (!ok) {
        const warned = lines.filter((line) => line.includes(id)).map((line) => line.replace(/^\s*⚠\s*/, ''));
        if (warned.length > 0 && !(id === 'N02' && unreadable.length > 0)) detail = warned.join('; ');
        else if (id === 'P01') detail = 'package.json has no "license"';
        else if (id === 'P03') detail = 'package.json has neither "repository" nor "bugs"';
        else if (id === 'N02' && unreadable.length === 0) {
          detail =
            lines
              .filter((line) => /Examples not found|No examples found/.test(line))
              .map((line) => line.replace(/^\s*⚠\s*/, ''))
              .join('; ') || detail;
        }
      }
      process.stdout.write(`${id} ${ok ? 'pass' : 'FAIL'}  ${detail}\n`);
    }
    for (const problem of problems) process.stdout.write(`error: ${problem}\n`);
    process.stdout.write(`scorecard: ${passed} passed, ${failed} failed, ${skipped} skipped (N01 and P08 need the Flow Library catalogue, P02 is disabled in node-red-dev)\n`);
    return failed > 0 || problems.length > 0 ? 1 : 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`scorecard: ${error.stack || error.message}\n`);
    process.exit(1);
  },
);
