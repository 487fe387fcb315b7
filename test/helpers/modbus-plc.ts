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
  private output = '';
  private lines: string[] = [];
  private waiting: Array<(line: string) => void> = [];
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.output += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        const waiter = this.waiting.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exit = new Promise((resolve) => {
      child.once('error', (error) => {
        this.output += `\n[spawn error] ${error.message}`;
        this.exited = true;
        resolve();
      });
      child.once('close', () => {
        this.exited = true;
        resolve();
      });
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
      throw new Error(`the Modbus PLC did not start: ${first}\n${plc.output}`);
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
    if (this.exited) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exit;
    clearTimeout(timer);
  }

  private command(line: string): Promise<string> {
    if (this.exited) return Promise.reject(new Error(`the Modbus PLC exited:\n${this.output}`));
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
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the Modbus PLC ${what}:\n${this.output}`));
      }, timeoutMs);
      const take = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      this.waiting.push(take);
      void this.exit.then(() => {
        if (!this.waiting.includes(take)) return;
        this.waiting = this.waiting.filter((waiter) => waiter !== take);
        clearTimeout(timer);
        reject(new Error(`the Modbus PLC exited before ${what}:\n${this.output}`));
      });
    });
  }
}
