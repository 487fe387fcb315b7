/**
 * Requests waiting for a peer's answer, on a fake clock: answers settle the oldest open
 * request of their kind, a request times out exactly at its timeout, and a lost
 * connection rejects every open request with a coded error.
 */
import assert from 'assert/strict';
import { RealvirtualError } from '../../engine/errors';
import { PendingRequests } from '../../engine/realvirtual/requests';
import { FakeClock } from '../helpers/fake-clock';

/** What became of a promise so far: 'pending', the value, or the error's code and message. */
function watch<T>(promise: Promise<T>): () => string {
  let outcome = 'pending';
  promise.then(
    (value) => (outcome = `resolved ${JSON.stringify(value)}`),
    (error: RealvirtualError) => (outcome = `${error.code}: ${error.message}`),
  );
  return () => outcome;
}

/** Lets settled promises run their handlers (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
}

describe('pending requests (fake clock)', function () {
  it('an answer settles the oldest open request of its kind and clears its timer', async function () {
    const clock = new FakeClock();
    const requests = new PendingRequests(clock);
    const first = watch(requests.wait('import', 5000, () => 'peer'));
    const second = watch(requests.wait('import', 5000, () => 'peer'));
    const config = watch(requests.wait('config_get', 5000, () => 'peer'));
    assert.equal(clock.pending, 3);
    assert.equal(requests.settle('import', { n: 1 }), true);
    assert.equal(requests.settle('import', { n: 2 }), true);
    assert.equal(requests.settle('import', { n: 3 }), false, 'nothing open: an unasked answer');
    assert.equal(requests.settle('config_set', true), false);
    await settle();
    assert.equal(first(), 'resolved {"n":1}');
    assert.equal(second(), 'resolved {"n":2}');
    assert.equal(config(), 'pending', 'another kind is not settled');
    assert.equal(clock.pending, 1);
  });

  it('times out exactly at timeoutMs with ERR_TIMEOUT naming the answer and the peer as it is then called', async function () {
    const clock = new FakeClock();
    const requests = new PendingRequests(clock);
    let name = '127.0.0.1:50000';
    const asked = watch(requests.wait('config_set', 2000, () => name));
    clock.advance(1999);
    await settle();
    assert.equal(asked(), 'pending');
    name = 'Twin';
    clock.advance(1);
    await settle();
    assert.equal(asked(), 'ERR_TIMEOUT: no config_result from Twin within 2000 ms');
    assert.equal(requests.settle('config_set', true), false, 'a timed-out request is no longer open');
  });

  it('a late answer after a timeout settles the next request, not the one that timed out', async function () {
    const clock = new FakeClock();
    const requests = new PendingRequests(clock);
    const early = watch(requests.wait('import', 1000, () => 'peer'));
    clock.advance(500);
    const late = watch(requests.wait('import', 1000, () => 'peer'));
    clock.advance(500);
    assert.equal(requests.settle('import', 'answer'), true);
    await settle();
    assert.match(early(), /^ERR_TIMEOUT: no import_answer from peer within 1000 ms$/);
    assert.equal(late(), 'resolved "answer"');
    assert.equal(clock.pending, 0);
  });

  it('rejectAll: every open request of every kind fails with ERR_NOT_CONNECTED, timers cleared', async function () {
    const clock = new FakeClock();
    const requests = new PendingRequests(clock);
    const outcomes = (['import', 'config_get', 'config_set', 'import'] as const).map((kind) => watch(requests.wait(kind, 5000, () => 'peer')));
    requests.rejectAll('connection closed');
    requests.rejectAll('again');
    await settle();
    assert.deepEqual(
      outcomes.map((outcome) => outcome()),
      [
        'ERR_NOT_CONNECTED: import_answer never came: connection closed',
        'ERR_NOT_CONNECTED: config_answer never came: connection closed',
        'ERR_NOT_CONNECTED: config_result never came: connection closed',
        'ERR_NOT_CONNECTED: import_answer never came: connection closed',
      ],
    );
    assert.equal(clock.pending, 0);
    clock.runAll();
    assert.equal(requests.settle('import', 1), false);
    const after = watch(requests.wait('import', 100, () => 'peer'));
    requests.settle('import', 'fresh');
    await settle();
    assert.equal(after(), 'resolved "fresh"', 'usable again after rejectAll');
  });
});
