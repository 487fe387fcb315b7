/**
 * Runs the compiled realvirtual-sim command (dist/sim/cli.js) as a real child process,
 * records its output and waits for lines, bounded. Stop it with stop(): SIGTERM to its
 * pid, then SIGKILL to the same pid if it has not exited in time.
 */
import { ChildProcess, spawn } from 'child_process';
import path from 'path';
import { repoRoot } from '../repo';

export const SIM_CLI = path.join(repoRoot(), 'dist', 'sim', 'cli.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class SimProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | null = null;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise<Exit>((resolve) => {
      child.once('error', (error) => {
        this.stderr += `\n[spawn error] ${error.message}`;
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Starts `node dist/sim/cli.js ...args` (or, with `direct`, the file itself through its #! line). */
  static start(args: string[], direct = false): SimProcess {
    const child = direct ? spawn(SIM_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, [SIM_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new SimProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Everything printed so far, for assertion messages. */
  get output(): string {
    return `--- stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}`;
  }

  /** Resolves with the first match of `pattern` in stdout (or stderr with `stream`); rejects on exit or timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 5000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this[stream].match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`realvirtual-sim exited (${JSON.stringify(this.exit)}) before printing ${pattern}\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for realvirtual-sim to print ${pattern}\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The port of "server listening on ws://host:port/" (a new process, with coverage on a busy machine, may take seconds). */
  async listeningPort(timeoutMs = 20000): Promise<number> {
    const match = await this.waitFor(/server listening on wss?:\/\/[^\s]+?:(\d+)\//, timeoutMs);
    return Number(match[1]);
  }

  /** Resolves with the exit, or rejects after `timeoutMs`. */
  async waitForExit(timeoutMs = 5000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`realvirtual-sim (pid ${this.pid}) did not exit within ${timeoutMs} ms\n${this.output}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to its pid. */
  kill(signal: NodeJS.Signals): void {
    if (this.running && this.pid !== undefined) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. Safe to call twice. */
  async stop(graceMs = 4000): Promise<Exit> {
    if (!this.running) return this.exit as Exit;
    this.kill('SIGTERM');
    try {
      return await this.waitForExit(graceMs);
    } catch {
      this.kill('SIGKILL');
      return this.waitForExit(2000);
    }
  }

  close(): Promise<Exit> {
    return this.stop();
  }
}
