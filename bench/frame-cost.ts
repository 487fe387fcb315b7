/**
 * `node dist/bench/frame-cost.js` — how long one hostile frame holds the event loop: the
 * time the server spends handling a frame full of rejected values, next to the time
 * JSON.parse alone takes for the same text (the ratio is what the engine adds on top of
 * parsing). Prints one row per frame; no thresholds.
 */
import { performance } from 'perf_hooks';
import WebSocket from 'ws';
import { Endpoint, RealvirtualServer } from '../engine';

interface Case {
  what: string;
  frame: () => string;
}

const CASES: Case[] = [
  { what: 'data, 900,000 null values', frame: () => `{"type":"data","signals":{${Array.from({ length: 900000 }, (_, i) => `"N${i}":null`).join(',')}}}` },
  { what: 'data, 200,000 new names of 300 characters', frame: () => `{"type":"data","signals":{${Array.from({ length: 200000 }, (_, i) => `"${'L'.repeat(290)}${i}":1`).join(',')}}}` },
  {
    what: 'import_answer, 1,000,000 non-string types',
    frame: () => `{"type":"import_answer","signals":{},"signalTypes":{${Array.from({ length: 1000000 }, (_, i) => `"T${i}":1`).join(',')}}}`,
  },
  {
    what: 'import_answer, 500,000 unknown types',
    frame: () => `{"type":"import_answer","signals":{},"signalTypes":{${Array.from({ length: 500000 }, (_, i) => `"U${i}":"Foo"`).join(',')}}}`,
  },
];

async function main(): Promise<void> {
  const handled: number[] = [];
  const prototype = Endpoint.prototype as unknown as { handleFrame: (...args: unknown[]) => void };
  const original = prototype.handleFrame;
  prototype.handleFrame = function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    original.apply(this, args);
    handled.push(performance.now() - start);
  };
  const server = new RealvirtualServer({ host: '127.0.0.1', port: 0, cycleMs: 0, heartbeatMs: 0, maxPayload: 64 * 1024 * 1024, maxSignals: 2000000 });
  let problems = 0;
  server.on('problem', () => problems++);
  await server.listen();
  console.log('frame                                         MiB   parse ms  handle ms  ratio  problem events');
  for (const test of CASES) {
    const text = test.frame();
    const parseStart = performance.now();
    JSON.parse(text);
    const parseMs = performance.now() - parseStart;
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/`, { maxPayload: 64 * 1024 * 1024 });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    handled.length = 0;
    problems = 0;
    socket.send(text);
    const deadline = Date.now() + 120000;
    while (handled.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const handleMs = handled[0] ?? NaN;
    console.log(
      `${test.what.padEnd(44)} ${(text.length / 1048576).toFixed(1).padStart(5)} ${parseMs.toFixed(0).padStart(9)} ${handleMs.toFixed(0).padStart(10)} ${(handleMs / parseMs).toFixed(2).padStart(6)} ${String(problems).padStart(15)}`,
    );
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
    server.table.clear();
  }
  await server.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
