'use strict';
// npm test after its build, in four lanes at the same time (most tests wait on sockets, processes and
// timers rather than compute): the Node-RED 4.1 tests in three shares of about equal time (the files
// .mocharc.json ignores, soak, browser and package, are not run), and the Node-RED 5 part
// (scripts/test-nr5.js: the node and integration tests again). Each lane has a config folder of its
// own (XDG_CONFIG_HOME), so that the OPC UA client of one lane never shares its certificate folder
// with another's.
// The 4.1 processes write V8 coverage, and c8 then checks the engine's line coverage against
// .c8rc.json (a mocha --parallel worker may be killed before it has written its coverage).
// The first lane prints as it goes, the others when they end; exit code 1 if any part failed.
const fs = require('fs');
const path = require('path');
const os = require('os');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
const c8 = require.resolve('c8/bin/c8.js', { paths: [root] });
const coverageDir = path.join(root, 'coverage', 'tmp');

/** The Node-RED 4.1 shares by folder, each about a third of the time; the last one takes every other folder. */
const SHARES = [['nodes/'], ['sim/', 'integrations/', 'interop/', 'scripts/']];

function testFiles() {
  const ignored = JSON.parse(fs.readFileSync(path.join(root, '.mocharc.json'), 'utf8')).ignore.map((pattern) => pattern.replace(/^dist\/test\//, '').replace(/\*\*$/, ''));
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, 'dist', 'test', dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.test.js') && !ignored.some((prefix) => relative.startsWith(prefix))) files.push(relative);
    }
  };
  walk('');
  return files;
}

function run(part) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, part.args, { cwd: root, env: part.env, stdio: part.live ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    const output = [];
    if (!part.live) for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => output.push(chunk));
    const done = (ok, how) => resolve({ part, ok, how, seconds: (Date.now() - started) / 1000, output });
    child.on('error', (error) => done(false, error.message));
    child.on('close', (code, signal) => done(code === 0, signal ? `stopped by ${signal}` : `exit code ${code}`));
  });
}

function report({ part, output }) {
  if (part.live) return;
  console.log(`\n${part.name}:`);
  process.stdout.write(Buffer.concat(output));
}

async function main() {
  const files = testFiles();
  const shares = SHARES.map((prefixes) => files.filter((file) => prefixes.some((prefix) => file.startsWith(prefix))));
  shares.push(files.filter((file) => !shares.flat().includes(file)));
  fs.rmSync(coverageDir, { recursive: true, force: true });
  fs.mkdirSync(coverageDir, { recursive: true });
  const configHomes = [];
  const laneEnv = (extra) => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-test-config-'));
    configHomes.push(home);
    const env = { ...process.env, XDG_CONFIG_HOME: home, ...extra };
    if (!extra.NODE_V8_COVERAGE) delete env.NODE_V8_COVERAGE;
    return env;
  };
  const uncovered = { ...process.env };
  delete uncovered.NODE_V8_COVERAGE;
  // --exit: a library's timers (the OPC UA client's, for one) may outlive the last test of a share by minutes.
  const mochaOf = (list) => [mocha, '--exit', ...list.map((file) => `dist/test/${file}`)];
  const folders = (list) => [...new Set(list.map((file) => file.split('/')[0]))].join(', ');
  const lanes = [
    ...[...shares]
      .reverse()
      .map((share, index) => [{ name: `Node-RED 4.1, ${share.length} files of ${folders(share)}`, args: mochaOf(share), env: laneEnv({ NODE_V8_COVERAGE: coverageDir }), live: index === 0 }]),
    [{ name: 'Node-RED 5', args: [path.join(__dirname, 'test-nr5.js')], env: laneEnv({}), live: false }],
  ];
  const runLane = async (parts) => {
    const done = [];
    for (const part of parts) done.push(await run(part));
    return done;
  };
  const results = (await Promise.all(lanes.map(runLane))).flat();
  for (const home of configHomes) fs.rmSync(home, { recursive: true, force: true });
  results.forEach(report);
  // The engine's line coverage of the 4.1 processes and what they started, checked against .c8rc.json.
  const coverage = await run({ name: 'engine coverage (c8)', args: [c8, 'report'], env: uncovered, live: true });
  console.log('');
  for (const { part, ok, how, seconds } of [...results, coverage]) console.log(`${part.name}: ${ok ? 'passed' : `FAILED (${how})`} in ${seconds.toFixed(0)} s`);
  process.exitCode = [...results, coverage].every((result) => result.ok) ? 0 : 1;
}

main();
