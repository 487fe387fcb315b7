import assert from 'assert/strict';
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
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

  it('runs the Protocol engine example as printed', async () => {
    const code = /```js\n([\s\S]*?)```/.exec(section('Protocol engine'));
    assert.ok(code, 'the Protocol engine section has a js example');
    const source = code[1].replace("require('node-red-contrib-realvirtual')", `require(${JSON.stringify(root)})`);
    assert.notEqual(source, code[1], 'the example requires the package by name');
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-readme-'));
    const file = path.join(folder, 'example.js');
    fs.writeFileSync(file, source);
    try {
      const output = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [file], { timeout: 15000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`example failed: ${error.message}\n${stdout}\n${stderr}`));
          else resolve(stdout);
        });
      });
      assert.match(output, /client received DriveSpeed = 150\.5/);
      assert.match(output, /server received Twin: \{"Sensor1":true\}/);
      assert.match(output, /DriveSpeed PLCOutputFloat -> PLCInputFloat/);
      assert.match(output, /Sensor1 PLCInputBool -> PLCOutputBool/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('documents every error code the engine defines', () => {
    const errors = fs.readFileSync(path.join(root, 'engine', 'errors.ts'), 'utf8');
    const codes = [...errors.matchAll(/'(ERR_[A-Z_]+)'/g)].map((match) => match[1]);
    assert.ok(codes.length > 10);
    for (const code of new Set(codes)) assert.ok(readme.includes(code), `README does not mention ${code}`);
  });
});
