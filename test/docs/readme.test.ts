import assert from 'assert/strict';
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from '../helpers/events';
import { repoRoot } from '../repo';

const root = repoRoot();
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('starts with the install+start command and the test command', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme.slice(0, 600));
    assert.ok(firstBlock, 'the README opens with a sh block');
    assert.match(firstBlock[1], /npm install && npm start/);
    assert.match(firstBlock[1], /npm test/);
    const scripts = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    assert.ok(scripts.start && scripts.test, 'package.json defines start and test');
  });

  /** Runs the section's js example with the package required from this checkout; resolves with its stdout. */
  async function runExample(title: string, substitutions: Array<[string, string]> = []): Promise<string> {
    const code = /```js\n([\s\S]*?)```/.exec(section(title));
    assert.ok(code, `the ${title} section has a js example`);
    let source = code[1].replace("require('node-red-contrib-realvirtual')", `require(${JSON.stringify(root)})`);
    assert.notEqual(source, code[1], 'the example requires the package by name');
    for (const [from, to] of substitutions) {
      assert.ok(source.includes(from), `the ${title} example contains ${from}`);
      source = source.split(from).join(to);
    }
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-readme-'));
    const file = path.join(folder, 'example.js');
    fs.writeFileSync(file, source);
    try {
      return await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [file], { timeout: 15000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`example failed: ${error.message}\n${stdout}\n${stderr}`));
          else resolve(stdout);
        });
      });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }

  it('runs the Protocol engine example as printed', async () => {
    const output = await runExample('Protocol engine');
    assert.match(output, /client received DriveSpeed = 150\.5/);
    assert.match(output, /server received Twin: \{"Sensor1":true\}/);
    assert.match(output, /DriveSpeed PLCOutputFloat -> PLCInputFloat/);
    assert.match(output, /Sensor1 PLCInputBool -> PLCOutputBool/);
  });

  it('runs the MinVR3 example as printed (on a free port instead of 9034)', async () => {
    const port = await freePort();
    const output = await runExample('MinVR3', [['port: 9034', `port: ${port}`]]);
    assert.match(output, /^peer-1 sent Tracker\/Head\/Position \(Vector3\) \{"x":0\.1,"y":1\.7,"z":-0\.25\}$/m);
  });

  it('documents every error code the engine defines', () => {
    const errors = fs.readFileSync(path.join(root, 'engine', 'errors.ts'), 'utf8');
    const codes = [...errors.matchAll(/'(ERR_[A-Z_]+)'/g)].map((match) => match[1]);
    assert.ok(codes.length > 10);
    for (const code of new Set(codes)) assert.ok(readme.includes(code), `README does not mention ${code}`);
  });
});
