/**
 * The README's "Reliability and security" section states what the tests do: its results
 * table must name exactly the counts the tests use (test/helpers/counts.ts and the
 * bad-frame table, the memory bounds' sizes in test:soak and in npm test), and its limits the
 * engine's defaults. The soak tests run with `npm run test:soak`, not with `npm test`.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { DEFAULTS } from '../../engine';
import { MAX_CONFIG_KEYS, MAX_CYCLE_MS } from '../../engine/realvirtual/config-rules';
import { MAX_CONFIG_DEPTH } from '../../engine/realvirtual/messages';
import { CASES } from '../helpers/bad-frames';
import { BAD_INPUT, DEPLOYS, FAULTS, MEMORY_BOUNDS } from '../helpers/counts';
import { sizeName } from '../helpers/memory-bounds';
import { repoRoot } from '../repo';

const root = repoRoot();
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const grouped = (n: number): string => n.toLocaleString('en-US');

function section(title: string, level = 2): string {
  const marker = `\n${'#'.repeat(level)} ${title}\n`;
  const start = readme.indexOf(marker);
  assert.ok(start >= 0, `README has no "${marker.trim()}" section`);
  const end = readme.slice(start + 1).search(new RegExp(`\\n#{1,${level}} `));
  return end < 0 ? readme.slice(start) : readme.slice(start, start + 1 + end);
}

/** The rows of the first table in `text`, as arrays of trimmed cells. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/.test(line))
    .slice(1)
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

function row(rows: string[][], label: RegExp): string[] {
  const found = rows.find((cells) => label.test(cells[0]));
  assert.ok(found, `the results table has no row matching ${label}`);
  return found;
}

describe('README: Reliability and security', () => {
  const reliability = section('Reliability and security');

  it('has the guarantees, access control, TLS, nginx, limits and results', () => {
    for (const title of ['Guarantees', 'Access control', 'TLS', 'Behind nginx, with a path', 'Limits and defaults', 'Results']) {
      assert.ok(reliability.includes(`\n### ${title}\n`), `no "### ${title}"`);
    }
    assert.match(section('Behind nginx, with a path', 3), /```nginx\n[\s\S]*proxy_set_header Upgrade \$http_upgrade;[\s\S]*```/);
  });

  it('states exactly the counts the tests use', () => {
    const rows = tableRows(section('Results', 3));
    assert.equal(row(rows, /^server process restarts/)[1], String(FAULTS.restarts));
    assert.equal(row(rows, /^failed connection attempts/)[1], String(FAULTS.refusedAttempts));
    assert.equal(row(rows, /^kinds of bad frames/)[1], String(CASES.length));
    const fuzz = row(rows, /^seeded fuzz frames/);
    assert.equal(fuzz[1], grouped(BAD_INPUT.fuzzFrames));
    assert.ok(fuzz[0].includes(`${grouped(BAD_INPUT.quickFuzzFrames)} each`), fuzz[0]);
    const partial = row(rows, /^partial deploys/);
    assert.equal(partial[1], String(DEPLOYS.partial));
    assert.ok(partial[0].includes(`after ${DEPLOYS.warmUp.partial} + ${DEPLOYS.warmUp.full} to warm up`), partial[0]);
    assert.equal(row(rows, /^full deploys/)[1], String(DEPLOYS.full));
    for (const deploys of [partial, row(rows, /^full deploys/)]) assert.equal(deploys[2], 'leaked: nothing');
    const { soak, quick } = MEMORY_BOUNDS;
    for (const [label, key] of [
      [/^new Text signals of/, 'texts'],
      [/^new signal names of/, 'names'],
      [/^clients whose `init` names are/, 'initNames'],
    ] as const) {
      const cells = row(rows, label);
      assert.equal(cells[1], String(soak[key].count), cells[0]);
      assert.ok(cells[0].includes(` ${sizeName(soak[key].bytes)} each`), cells[0]);
      assert.ok(cells[0].includes(`(\`npm test\`: ${quick[key].count} of ${sizeName(quick[key].bytes)})`), cells[0]);
    }
    const nulls = row(rows, /^one `data` frame of/)[0];
    assert.ok(nulls.includes(`of ${grouped(soak.rejected.nulls)} \`null\` values`) && nulls.includes(`of ${grouped(soak.rejected.importTypes)} non-string types`), nulls);
    assert.equal(quick.rejected.nulls, quick.rejected.importTypes);
    assert.ok(nulls.includes(`(\`npm test\`: ${grouped(quick.rejected.nulls)} each)`), nulls);
    const results = section('Results', 3);
    assert.ok(results.includes(`at most ${DEPLOYS.heapToleranceMiB} MiB, of which at most ${DEPLOYS.dataToleranceMiB} MiB outside V8's code space`), 'the heap tolerances');
  });

  it("states the engine's defaults as its limits", () => {
    const MiB = 1024 * 1024;
    const rows = tableRows(section('Limits and defaults', 3));
    const defaultOf = (label: RegExp): string => row(rows, label)[1];
    assert.equal(defaultOf(/^`maxPayload`/), `${DEFAULTS.maxPayload / MiB} MiB`);
    assert.equal(defaultOf(/^`slowPeerBytes`/), `${DEFAULTS.slowPeerBytes / MiB} MiB unsent`);
    assert.equal(defaultOf(/^`slowPeerTimeout`/), `${DEFAULTS.slowPeerTimeoutMs / 1000} s`);
    assert.equal(defaultOf(/^`maxSignals`/), grouped(DEFAULTS.maxSignals));
    assert.equal(defaultOf(/^`heartbeatMs`/), `${DEFAULTS.heartbeatMs / 1000} s`);
    assert.equal(defaultOf(/^`listenRetries`/), String(DEFAULTS.listenRetries));
    assert.equal(defaultOf(/^`handshakeTimeoutMs`/), `${DEFAULTS.handshakeTimeoutMs / 1000} s`);
    assert.equal(defaultOf(/^configuration depth/), `${MAX_CONFIG_DEPTH} levels`);
    assert.equal(defaultOf(/^`maxConfigBytes`/), `${DEFAULTS.maxConfigBytes / 1024} KiB`);
    assert.equal(defaultOf(/^configuration keys/), `${MAX_CONFIG_KEYS} top-level keys`);
    assert.equal(defaultOf(/^`publishIntervalMs`/), `0 or 1 to ${MAX_CYCLE_MS} ms`);
    assert.equal(DEFAULTS.maxClients, 0);
    assert.equal(defaultOf(/^`maxClients`/), 'unlimited');
    assert.equal(defaultOf(/^`initTimeout`/), `${DEFAULTS.initTimeoutMs / 1000} s`);
  });

  it('runs the soak tests with npm run test:soak, and not with npm test', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.match(pkg.scripts['test:soak'], /dist\/test\/soak\//);
    const mocharc = JSON.parse(fs.readFileSync(path.join(root, '.mocharc.json'), 'utf8'));
    assert.ok(
      (mocharc.ignore as string[]).some((pattern) => pattern.startsWith('dist/test/soak')),
      '.mocharc.json ignores the soak tests',
    );
    assert.ok(fs.existsSync(path.join(root, 'test', 'soak', 'deploys.test.ts')));
    assert.ok(fs.existsSync(path.join(root, 'test', 'soak', 'fuzz.test.ts')));
    assert.ok(fs.existsSync(path.join(root, 'test', 'soak', 'memory-bounds.test.ts')));
  });
});
