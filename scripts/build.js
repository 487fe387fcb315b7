'use strict';
// Compiles the TypeScript sources to CommonJS and puts every node's .html, icons/ and
// locales/ beside its .js, where Node-RED looks for them. The output is assembled in a
// fresh folder and then swapped in for dist/, so that dist/ is never half built.
// Every failure is reported on stderr with the step that failed and why, and exits 1.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const fresh = path.join(root, `dist.building-${process.pid}`);
const stale = path.join(root, `dist.stale-${process.pid}`);

class BuildError extends Error {}

function typescriptCompiler() {
  try {
    return require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
    throw new BuildError('the typescript package is not installed: run `npm install` (it is a devDependency)');
  }
}

function compile() {
  const tsc = typescriptCompiler();
  try {
    // tsc prints its diagnostics (file, line, TS code) on stdout.
    execFileSync(process.execPath, [tsc, '-p', root, '--outDir', fresh], { stdio: 'inherit' });
  } catch (error) {
    if (error.signal) throw new BuildError(`the TypeScript compiler was stopped by ${error.signal}`);
    if (typeof error.status === 'number') throw new BuildError(`the TypeScript compiler reported errors (exit code ${error.status}, diagnostics above)`);
    throw new BuildError(`the TypeScript compiler could not run: ${error.message}`);
  }
}

function copyEditorFiles() {
  const nodesOut = path.join(fresh, 'nodes');
  fs.mkdirSync(nodesOut, { recursive: true });
  for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
    if (file.endsWith('.html')) fs.copyFileSync(path.join(root, 'nodes', file), path.join(nodesOut, file));
  }
  for (const folder of ['icons', 'locales']) {
    const source = path.join(root, folder);
    if (fs.existsSync(source)) fs.cpSync(source, path.join(nodesOut, folder), { recursive: true });
  }
}

// The package.json "bin" commands (dist/...) must be executable (they start with #!/usr/bin/env node).
function markCommandsExecutable() {
  const bin = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).bin || {};
  for (const target of typeof bin === 'string' ? [bin] : Object.values(bin)) {
    const built = path.join(fresh, path.relative('dist', path.normalize(target)));
    if (fs.existsSync(built)) fs.chmodSync(built, 0o755);
  }
}

function swapIn() {
  if (fs.existsSync(dist)) fs.renameSync(dist, stale);
  try {
    fs.renameSync(fresh, dist);
  } catch (error) {
    if (fs.existsSync(stale)) fs.renameSync(stale, dist);
    throw error;
  }
  fs.rmSync(stale, { recursive: true, force: true });
}

const steps = [
  ['compiling the TypeScript sources', compile],
  ['copying the editor files (nodes/*.html, icons/, locales/)', copyEditorFiles],
  ['making the package.json "bin" commands executable', markCommandsExecutable],
  ['replacing dist/ with the new build', swapIn],
];

let step = 'clearing an earlier unfinished build';
try {
  fs.rmSync(fresh, { recursive: true, force: true });
  for (const [name, run] of steps) {
    step = name;
    run();
  }
} catch (error) {
  const reason = error instanceof BuildError ? error.message : error && error.message ? error.message : String(error);
  process.stderr.write(`build failed while ${step}: ${reason}\n`);
  try {
    fs.rmSync(fresh, { recursive: true, force: true });
  } catch (cleanup) {
    process.stderr.write(`(could not remove ${path.basename(fresh)}: ${cleanup.message})\n`);
  }
  process.exitCode = 1;
}
