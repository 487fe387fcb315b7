/**
 * Request/response over the IPC channel of child_process.fork: the runner drives the
 * measured process and the load generator with it. Every child stops by itself when
 * the runner goes away or its hard time limit passes.
 */
import { ChildProcess, fork } from 'child_process';
import path from 'path';
import { repoRoot } from '../test/repo';

/** Each command takes its own arguments (whatever the runner sent). */
type Handler = (args: never) => unknown;

interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

interface Reply {
  id: number;
  ok?: boolean;
  result?: unknown;
  error?: string;
  ready?: boolean;
}

/** In a child: answers the runner's requests with `handlers`; exits on disconnect or after `hardLimitMs`. */
export function serve(handlers: Record<string, Handler>, hardLimitMs: number): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script is started by the benchmark runner (dist/bench/run.js)');
  setTimeout(() => {
    process.stderr.write(`hard time limit of ${hardLimitMs} ms reached: exiting\n`);
    process.exit(3);
  }, hardLimitMs).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: Request) => {
    const { id, cmd, args } = message;
    Promise.resolve()
      .then(() => {
        const handler = handlers[cmd];
        if (!handler) throw new Error(`unknown command ${JSON.stringify(cmd)}`);
        return handler(args as never);
      })
      .then(
        (result) => send({ id, ok: true, result: result === undefined ? null : result }),
        (error: unknown) => send({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  send({ id: 0, ready: true });
}

const OUTPUT_TAIL = 16 * 1024;

/** In the runner: one forked bench script and the requests it answers. */
export class Child {
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private output = '';
  private exitInfo: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(`${this.name}: ${reply.error}`));
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitInfo = `exited (${signal ?? `code ${code}`})`;
        for (const [id, waiting] of this.pending) {
          this.pending.delete(id);
          clearTimeout(waiting.timer);
          waiting.reject(new Error(`${this.name} ${this.exitInfo}${this.output ? `; its last output:\n${this.output.trimEnd()}` : ''}`));
        }
        resolve();
      });
    });
  }

  /** Forks dist/bench/<script>.js and waits until it serves. */
  static async start(script: string, name: string, execArgv: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Child> {
    const proc = fork(path.join(__dirname, `${script}.js`), [], {
      // node-red-node-test-helper looks for the runtime from the working directory.
      cwd: repoRoot(),
      execArgv,
      env: { ...process.env, ...env },
      silent: true,
      serialization: 'json',
    });
    const child = new Child(name, proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20000);
      const onMessage = (reply: Reply): void => {
        if (!reply.ready) return;
        clearTimeout(timer);
        proc.off('message', onMessage);
        resolve();
      };
      proc.on('message', onMessage);
      child.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} ${child.exitInfo} while starting: ${child.output.trimEnd()}`));
      });
    });
    return child;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** The last lines the child printed (shown when a case breaks). */
  get log(): string {
    return this.output;
  }

  call<T = unknown>(cmd: string, args?: unknown, timeoutMs = 30000): Promise<T> {
    if (this.exitInfo) return Promise.reject(new Error(`${this.name} ${this.exitInfo}: cannot ${cmd}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} did not answer "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Disconnects (the child exits by itself) and kills it if it has not exited within 3 s. */
  async close(): Promise<void> {
    if (this.exitInfo) return;
    if (this.proc.connected) this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
