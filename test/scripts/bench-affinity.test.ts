/**
 * bench/affinity.ts: the CPU lists it reads, the placement it picks, and a real pin of a
 * real child process, read back from the kernel.
 */
import assert from 'assert';
import { execFileSync, spawn } from 'child_process';
import { parseCpuList, pin, placementFor, placementOfMachine } from '../../bench/affinity';

describe('bench CPU placement', function () {
  it('reads the kernel CPU list syntax', function () {
    assert.deepStrictEqual(parseCpuList('0-1'), [0, 1]);
    assert.deepStrictEqual(parseCpuList('0'), [0]);
    assert.deepStrictEqual(parseCpuList('0-2,5,7-8'), [0, 1, 2, 5, 7, 8]);
    assert.deepStrictEqual(parseCpuList(' 3 , 4-5 '), [3, 4, 5]);
    assert.deepStrictEqual(parseCpuList(''), []);
    assert.deepStrictEqual(parseCpuList('x,2-1,4'), [4]);
  });

  it('puts the measured processes on the first allowed CPU and the peers on the rest', function () {
    assert.strictEqual(placementFor([]), null);
    assert.strictEqual(placementFor([3]), null);
    assert.deepStrictEqual(placementFor([0, 1]), { subjects: '0', peers: '1' });
    assert.deepStrictEqual(placementFor([2, 3, 6]), { subjects: '2', peers: '3,6' });
  });

  it('pins every thread of a running process where the machine allows it', async function () {
    const placement = placementOfMachine();
    if (!placement) this.skip();
    // Its threads exist once its script runs: it says so on stdout.
    const child = spawn(process.execPath, ['-e', 'process.stdout.write("up"); setTimeout(() => {}, 20000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      pin(child.pid!, placement!.peers);
      const shown = execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(child.pid)], { encoding: 'utf8' });
      const lists = [...shown.matchAll(/affinity list: (\S+)/g)].map((match) => parseCpuList(match[1]));
      assert.ok(lists.length >= 2, `expected the main thread and V8's threads, got: ${shown}`);
      for (const list of lists) assert.deepStrictEqual(list, parseCpuList(placement!.peers));
    } finally {
      child.kill();
    }
  });
});
