/**
 * scripts/build.js run on small projects of its own: a build that works, and each way it can
 * fail (typescript missing, a type error, a copy that fails). Every failure names its step and
 * reason on stderr, exits 1 and leaves the previous dist/ as it was.
 */
import assert from 'assert';
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot } from '../repo';

interface Project {
  dir: string;
  write(file: string, text: string): void;
}

function project(withTypescript = true): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-build-'));
  const write = (file: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write('package.json', JSON.stringify({ name: 'build-probe', bin: { probe: 'dist/src/cli.js' } }));
  // The smallest standard library, unchecked: the compiler starts in a quarter of the time.
  write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'ES2020', lib: ['es5'], skipLibCheck: true, strict: true, rootDir: '.', types: [] }, include: ['src'] }));
  write('src/cli.ts', '#!/usr/bin/env node\nexport const answer: number = 42;\n');
  write('nodes/probe.html', '<script type="text/html" data-template-name="probe"></script>\n');
  write('locales/en-US/probe.json', '{}\n');
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(repoRoot(), 'scripts', 'build.js'), path.join(dir, 'scripts', 'build.js'));
  if (withTypescript) {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(path.join(repoRoot(), 'node_modules', 'typescript'), path.join(dir, 'node_modules', 'typescript'), 'dir');
  }
  return { dir, write };
}

function build(dir: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(dir, 'scripts', 'build.js')], { cwd: dir, encoding: 'utf8', timeout: 60000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A dist/ from an earlier build, which a failed build must leave alone. */
function earlierBuild(dir: string): void {
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.writeFileSync(path.join(dir, 'dist', 'earlier.txt'), 'earlier build');
}

function assertFailedCleanly(dir: string): void {
  assert.equal(fs.readFileSync(path.join(dir, 'dist', 'earlier.txt'), 'utf8'), 'earlier build');
  assert.deepEqual(
    fs.readdirSync(dir).filter((entry) => entry.startsWith('dist.')),
    [],
    'no half-built folder is left behind',
  );
}

describe('scripts/build.js', function () {
  this.timeout(60000);
  const made: string[] = [];
  const make = (withTypescript?: boolean): Project => {
    const fresh = project(withTypescript);
    made.push(fresh.dir);
    return fresh;
  };
  after(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('compiles, copies the editor files beside the nodes and marks the bin commands executable', () => {
    const { dir } = make();
    earlierBuild(dir);
    const result = build(dir);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.ok(fs.existsSync(path.join(dir, 'dist', 'nodes', 'probe.html')));
    assert.ok(fs.existsSync(path.join(dir, 'dist', 'nodes', 'locales', 'en-US', 'probe.json')));
    assert.ok(fs.statSync(path.join(dir, 'dist', 'src', 'cli.js')).mode & 0o100, 'dist/src/cli.js is executable');
    assert.ok(!fs.existsSync(path.join(dir, 'dist', 'earlier.txt')), 'the new build replaced the earlier one');
  });

  it('says that typescript is missing', () => {
    const { dir } = make(false);
    earlierBuild(dir);
    const result = build(dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^build failed while compiling the TypeScript sources: the typescript package is not installed: run `npm install`/);
    assertFailedCleanly(dir);
  });

  it("passes on the compiler's diagnostics and says that compiling failed", () => {
    const { dir, write } = make();
    write('src/wrong.ts', "export const count: number = 'three';\n");
    earlierBuild(dir);
    const result = build(dir);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /src\/wrong\.ts\(1,14\): error TS2322/);
    assert.match(result.stderr, /^build failed while compiling the TypeScript sources: the TypeScript compiler reported errors \(exit code 2, diagnostics above\)/);
    assertFailedCleanly(dir);
  });

  it('names the file that could not be copied', () => {
    const { dir } = make();
    fs.symlinkSync(path.join(dir, 'nodes', 'missing.html'), path.join(dir, 'nodes', 'broken.html'));
    earlierBuild(dir);
    const result = build(dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^build failed while copying the editor files \(nodes\/\*\.html, icons\/, locales\/\): ENOENT.*broken\.html/);
    assertFailedCleanly(dir);
  });
});
