/**
 * examples/historian-sqlite.json end to end: the real realvirtual-sim (a child process on a free
 * port), the example flow in the Node-RED runtime with node-red-node-sqlite writing to a file in
 * a temp folder, and the test reading that file with sqlite3 (the module the node uses).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import sqlite3 from 'sqlite3';
import { Resources } from '../helpers/events';
import { SimProcess } from '../helpers/sim';
import { unload } from '../nodes/harness';
import { loadExample, readExample } from './example-flow';
import { checkQueries, checkRecords, checkReplay, ReadRows, Row } from './historian';

describe('integrations: historian on SQLite (node-red-node-sqlite) with realvirtual-sim', function () {
  this.timeout(30000);
  const resources = new Resources();
  let sim: SimProcess | null = null;
  let dir: string | null = null;
  let db: sqlite3.Database | null = null;

  afterEach(async function () {
    await unload();
    await resources.closeAll();
    if (db) await new Promise((resolve) => (db as sqlite3.Database).close(resolve));
    db = null;
    if (sim) await sim.stop();
    sim = null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  async function start(): Promise<{ flow: ReturnType<typeof readExample>; port: number; read: ReadRows; loadedAt: number }> {
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-historian-'));
    const file = path.join(dir, 'historian.sqlite');
    const flow = readExample('historian-sqlite.json');
    for (const n of flow) if (n.type === 'sqlitedb') n.db = file;
    const loadedAt = Date.now();
    await loadExample(flow, port, ['node-red-node-sqlite']);
    const reader = new sqlite3.Database(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE);
    db = reader;
    const read: ReadRows = () =>
      new Promise((resolve, reject) =>
        reader.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'signal_log'", (error, tables) => {
          if (error) return reject(error);
          if (tables.length === 0) return resolve([]);
          reader.all('SELECT id, ts, session, direction, signal, value FROM signal_log ORDER BY ts, seq', (err, rows: Array<Omit<Row, 'value'> & { value: string }>) =>
            err ? reject(err) : resolve(rows.map((r) => ({ ...r, value: JSON.parse(r.value) }))),
          );
        }),
      );
    return { flow, port, read, loadedAt };
  }

  it('records every change of the conveyor and every command, with its time', async function () {
    const { flow, port, read, loadedAt } = await start();
    await checkRecords(flow, 'hist', port, read, resources, loadedAt);
    await checkQueries(flow, 'hist', read);
  });

  it("replays a session's commands at their original timing; the conveyor answers as recorded", async function () {
    const { flow, read } = await start();
    await checkReplay(flow, 'hist', read);
  });
});
