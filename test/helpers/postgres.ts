/**
 * A real PostgreSQL server for tests: Debian's postgresql (apt-get install postgresql), a fresh
 * cluster (initdb) in a temp folder, listening on a free port of 127.0.0.1 only, started and
 * stopped by its pid. PostgreSQL refuses to run as root: as root, the cluster belongs to the
 * system user `postgres` and its programs run as that user. The role `historian` (password
 * `historian`) owns the database `historian`.
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { ChildWatch } from './child-watch';
import { freePort, isListening } from './events';

const USER = 'historian';

/** The bin folder of the newest installed server (Debian: /usr/lib/postgresql/<major>/bin); null if none. */
export function findPostgres(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const majors = fs
    .readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length > 0 ? path.join(root, majors[0], 'bin') : null;
}

/** uid and gid of the system user `postgres` when we are root (the server's owner), else undefined. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no system user "postgres" to run PostgreSQL as (Debian\'s postgresql package creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export class Postgres {
  private readonly process: ChildWatch;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {
    this.process = new ChildWatch(child);
  }

  /** initdb, postgres on a free loopback port, then the role and database `historian`. */
  static async start(timeoutMs = 20000): Promise<Postgres> {
    const bin = findPostgres();
    if (!bin) throw new Error('these tests need the PostgreSQL server (Debian: apt-get install postgresql)');
    const owner = serverUser();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-postgres-'));
    const data = path.join(dir, 'data');
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    const run = (program: string, args: string[], options: SpawnSyncOptions = {}): void => {
      const result = spawnSync(path.join(bin, program), args, { encoding: 'utf8', timeout: timeoutMs, ...owner, ...options });
      if (result.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${result.status ?? result.signal ?? result.error}):\n${result.stdout}${result.stderr}`);
    };
    try {
      run('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '--encoding=UTF8', '--locale=C']);
      const port = await freePort();
      fs.appendFileSync(
        path.join(data, 'postgresql.conf'),
        [`listen_addresses = '127.0.0.1'`, `port = ${port}`, `unix_socket_directories = '${dir}'`, 'fsync = off', 'synchronous_commit = off', 'full_page_writes = off', ''].join('\n'),
      );
      const server = new Postgres(spawn(path.join(bin, 'postgres'), ['-D', data], { stdio: ['ignore', 'pipe', 'pipe'], ...owner }), port, dir);
      const deadline = Date.now() + timeoutMs;
      // It listens before it accepts connections (startup): pg_isready says when it does.
      const ready = (): boolean => spawnSync(path.join(bin, 'pg_isready'), ['-q', '-h', dir, '-p', String(port)], { timeout: 5000 }).status === 0;
      while (!(await isListening(port)) || !ready()) {
        if (server.process.exited || Date.now() > deadline) {
          await server.close();
          throw new Error(`postgres did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${server.process.output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const sql = [`CREATE ROLE ${USER} LOGIN PASSWORD '${USER}'`, `CREATE DATABASE ${USER} OWNER ${USER}`];
      try {
        for (const statement of sql) run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', statement]);
      } catch (error) {
        await server.close();
        throw error;
      }
      return server;
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** What a client needs: 127.0.0.1, the port, the database and its owner's credentials. */
  get connection(): { host: string; port: number; database: string; user: string; password: string } {
    return { host: '127.0.0.1', port: this.port, database: USER, user: USER, password: USER };
  }

  get log(): string {
    return this.process.output;
  }

  /** SIGINT (PostgreSQL's fast shutdown: clients are disconnected) to its pid, SIGKILL after 5 s; removes its folder. */
  async close(): Promise<void> {
    await this.process.stop('SIGINT', 5000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
