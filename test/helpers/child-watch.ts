/**
 * What the helpers that run a real peer process (a broker, a database, a PLC) need of
 * it: the tail of its output for error messages, whether it has exited, and a stop by
 * its pid that escalates to SIGKILL.
 */
import { ChildProcess } from 'child_process';

/** Output kept per process: enough for an error message, bounded for a chatty peer. */
const OUTPUT_KEPT = 20000;

export class ChildWatch {
  private text = '';
  private ended = false;
  /** Resolves once the process has exited (or could not be spawned). */
  readonly exit: Promise<void>;

  /** `watchStdout` false: the caller reads stdout itself (a line protocol) and passes it on through note(). */
  constructor(
    readonly child: ChildProcess,
    watchStdout = true,
  ) {
    if (watchStdout) child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.note(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.note(chunk));
    this.exit = new Promise((resolve) => {
      child.once('error', (error) => {
        this.note(`\n[spawn error] ${error.message}`);
        this.ended = true;
        resolve();
      });
      child.once('close', () => {
        this.ended = true;
        resolve();
      });
    });
  }

  get output(): string {
    return this.text;
  }

  get exited(): boolean {
    return this.ended;
  }

  note(chunk: string): void {
    this.text = (this.text + chunk).slice(-OUTPUT_KEPT);
  }

  /** `ask` (a signal, or a function such as closing stdin), then SIGKILL after `graceMs`; resolves once it exited. */
  async stop(ask: NodeJS.Signals | (() => void), graceMs: number): Promise<void> {
    if (this.ended) return;
    if (typeof ask === 'function') ask();
    else this.child.kill(ask);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}
