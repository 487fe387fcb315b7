/**
 * A stand-in PLC for tests: test/helpers/peers/modbus_plc.py, a Modbus TCP server built on
 * Debian's python3-pymodbus (an implementation independent of the Modbus nodes under
 * test), on a free port of 127.0.0.1. The test sets and reads its coils and holding
 * registers through the script's stdin/stdout; close() ends it by closing stdin, then
 * SIGKILL to its pid.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { repoRoot } from '../repo';
import { ChildWatch } from './child-watch';
import { freePort } from './events';

const SCRIPT = path.join(repoRoot(), 'test', 'helpers', 'peers', 'modbus_plc.py');
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Why the PLC cannot run here (the message names the Debian packages), or null. */
export function modbusPlcProblem(): string | null {
  const result = spawnSync(PYTHON, ['-c', 'import pymodbus.server.async_io'], { encoding: 'utf8', timeout: 10000 });
  if (result.status === 0) return null;
  return `these tests need Python 3 with pymodbus (Debian: apt-get install python3-pymodbus python3-serial python3-serial-asyncio): ${(result.stderr || String(result.error)).trim()}`;
}

export type ModbusTable = 'co' | 'hr';

export class ModbusPlc {
  private readonly process: ChildWatch;
  private lines: string[] = [];
  private waiting: Array<(line: string) => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.process = new ChildWatch(child, false);
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.process.note(chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        const waiter = this.waiting.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
  }

  /** Starts the PLC; resolves once it accepts Modbus TCP connections. */
  static async start(timeoutMs = 10000): Promise<ModbusPlc> {
    const problem = modbusPlcProblem();
    if (problem) throw new Error(problem);
    const port = await freePort();
    const plc = new ModbusPlc(spawn(PYTHON, [SCRIPT, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }), port);
    const first = await plc.nextLine(timeoutMs, 'to listen');
    if (first !== `listening ${port}`) {
      await plc.close();
      throw new Error(`the Modbus PLC did not start: ${first}\n${plc.process.output}`);
    }
    return plc;
  }

  async set(table: ModbusTable, address: number, value: number): Promise<void> {
    const answer = await this.command(`set ${table} ${address} ${value}`);
    if (answer !== 'ok') throw new Error(`set ${table} ${address}: ${answer}`);
  }

  async get(table: ModbusTable, address: number): Promise<number> {
    const answer = await this.command(`get ${table} ${address}`);
    const value = Number(answer);
    if (answer === '' || !Number.isInteger(value)) throw new Error(`get ${table} ${address}: ${answer}`);
    return value;
  }

  /** Closes stdin (the script then stops its server and exits); SIGKILL after 3 s. */
  async close(): Promise<void> {
    await this.process.stop(() => this.child.stdin!.end(), 3000);
  }

  private command(line: string): Promise<string> {
    if (this.process.exited) return Promise.reject(new Error(`the Modbus PLC exited:\n${this.process.output}`));
    const answer = this.nextLine(5000, `to answer "${line}"`);
    this.child.stdin!.write(`${line}\n`);
    return answer;
  }

  private nextLine(timeoutMs: number, what: string): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((waiter) => waiter !== take);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the Modbus PLC ${what}:\n${this.process.output}`));
      }, timeoutMs);
      const take = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiting.push(take);
      void this.process.exit.then(() => {
        if (!this.waiting.includes(take)) return;
        this.waiting = this.waiting.filter((waiter) => waiter !== take);
        clearTimeout(timer);
        reject(new Error(`the Modbus PLC exited before ${what}:\n${this.process.output}`));
      });
    });
  }
}
