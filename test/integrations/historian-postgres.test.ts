/**
 * examples/historian-postgres.json end to end: a real PostgreSQL server (initdb into a temp
 * folder, started on a free port of 127.0.0.1 and stopped by the test), the real realvirtual-sim,
 * the example flow in the Node-RED runtime, whose function node loads the pure-JavaScript client
 * pg as an external module (here the devDependency, linked into a temp user dir, as Node-RED
 * would have installed it), and the test reading signal_log with pg too.
 */
import assert from 'assert/strict';
import fs from 'fs';
import path from 'path';
import { Client } from 'pg';
import { Resources } from '../helpers/events';
import { Postgres } from '../helpers/postgres';
import { SimProcess } from '../helpers/sim';
import { FlowNode, removeDir, tempDir, unload, within } from '../nodes/harness';
import { loadExample, readExample } from './example-flow';
import { checkQueries, checkRecords, checkReplay, ReadRows, Row } from './historian';

/** A Node-RED user dir in which the external module pg is installed (a link to the devDependency). */
function userDirWithPg(): string {
  const dir = tempDir('rv-historian-pg-');
  const pg = path.dirname(require.resolve('pg/package.json'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(pg, path.join(dir, 'node_modules', 'pg'), 'dir');
  const version = JSON.parse(fs.readFileSync(path.join(pg, 'package.json'), 'utf8')).version as string;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true, dependencies: { pg: version } }));
  return dir;
}

describe('integrations: historian on PostgreSQL (function node with pg) with realvirtual-sim', function () {
  this.timeout(40000);
  const resources = new Resources();
  let server: Postgres | null = null;
  let sim: SimProcess | null = null;
  let client: Client | null = null;
  let userDir: string | null = null;

  before(async function () {
    server = await Postgres.start();
  });

  after(async function () {
    if (server) await server.close();
  });

  afterEach(async function () {
    await unload();
    await resources.closeAll();
    if (client) await client.end();
    client = null;
    if (sim) await sim.stop();
    sim = null;
    if (userDir) fs.unlinkSync(path.join(userDir, 'node_modules', 'pg')); // the link first: never follow it
    removeDir(userDir);
    userDir = null;
  });

  async function start(): Promise<{ flow: FlowNode[]; port: number; read: ReadRows; loadedAt: number }> {
    const db = (server as Postgres).connection;
    sim = SimProcess.start(['--port', '0']);
    const port = await sim.listeningPort();
    const reader = new Client(db);
    client = reader;
    await within(reader.connect(), 'the test to connect to PostgreSQL');
    await reader.query('DROP TABLE IF EXISTS signal_log');
    const flow = readExample('historian-postgres.json');
    const tab = flow.find((n) => n.type === 'tab') as FlowNode & { env: Array<{ name: string; value: string; type: string }> };
    const env = Object.fromEntries(tab.env.map((v) => [v.name, v.value]));
    assert.deepEqual(env, { PGHOST: '127.0.0.1', PGPORT: '5432', PGDATABASE: 'historian', PGUSER: 'historian' });
    tab.env = [...tab.env.filter((v) => v.name !== 'PGPORT'), { name: 'PGPORT', value: String(db.port), type: 'str' }, { name: 'PGPASSWORD', value: db.password, type: 'str' }];
    userDir = userDirWithPg();
    const loadedAt = Date.now();
    await loadExample(flow, port, [], {}, { userDir });
    const read: ReadRows = async () => {
      const exists = await reader.query("SELECT to_regclass('signal_log') AS t");
      if (exists.rows[0].t === null) return [];
      const { rows } = await reader.query('SELECT id, ts, session, direction, signal, value FROM signal_log ORDER BY ts, seq');
      return rows.map((r): Row => ({ id: Number(r.id), ts: Number(r.ts), session: r.session, direction: r.direction, signal: r.signal, value: JSON.parse(r.value) }));
    };
    return { flow, port, read, loadedAt };
  }

  it('records every change of the conveyor and every command, with its time', async function () {
    const { flow, port, read, loadedAt } = await start();
    await checkRecords(flow, 'pg', port, read, resources, loadedAt);
    await checkQueries(flow, 'pg', read);
  });

  it("replays a session's commands at their original timing; the conveyor answers as recorded", async function () {
    const { flow, read } = await start();
    await checkReplay(flow, 'pg', read);
  });
});
