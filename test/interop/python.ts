/**
 * Runs the Python examples of realvirtual's WebSocket Realtime Interface reference
 * (vendored verbatim in test/interop/peers/) as real peers of our engine. The only
 * change made to them is their host and port, by exact textual substitution in a
 * temporary copy. Our own peer scripts in that folder run as they are (PythonPeer.run).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot } from '../repo';

/** Where the vendored reference peers live (source tree, not dist/). */
export function peersDir(): string {
  return path.join(repoRoot(), 'test', 'interop', 'peers');
}

export type ReferencePeer = 'client' | 'server';

export const PEER_FILES: Record<ReferencePeer, string> = {
  client: 'reference_client.py',
  server: 'reference_server.py',
};

/** The reference markdown's expected place, beside the repository: ../shared/reference/. */
export function referenceMarkdownPath(): string {
  return path.resolve(repoRoot(), '..', 'shared', 'reference', 'realvirtual-websocket-realtime-interface.md');
}

const HEADINGS: Record<ReferencePeer, string> = {
  client: '### Example: Python Client',
  server: '### Example: Python Server',
};

/**
 * The code of the first ```python block after the example's heading, exactly as written:
 * every line between the fences, each with its newline.
 */
export function extractExample(markdown: string, peer: ReferencePeer): string {
  const heading = markdown.indexOf(`\n${HEADINGS[peer]}\n`);
  if (heading < 0) throw new Error(`reference has no heading "${HEADINGS[peer]}"`);
  const fence = '\n```python\n';
  const open = markdown.indexOf(fence, heading);
  if (open < 0) throw new Error(`reference has no \`\`\`python block after "${HEADINGS[peer]}"`);
  const start = open + fence.length;
  const close = markdown.indexOf('\n```\n', start);
  if (close < 0) throw new Error(`the python block after "${HEADINGS[peer]}" is not closed`);
  return markdown.slice(start, close + 1);
}

/** /usr/bin/python3 (Debian's, where apt installs python3-websockets), else python3 on PATH. */
export function findPython(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Null when the interpreter runs and imports websockets, else why not. */
export function pythonProblem(interpreter: string): string | null {
  const result = spawnSync(interpreter, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8', timeout: 10000 });
  if (result.error) return `cannot run ${interpreter}: ${result.error.message}`;
  if (result.status !== 0) {
    return `${interpreter} cannot import websockets (install Debian's python3-websockets: apt-get install python3-websockets): ${result.stderr.trim()}`;
  }
  return null;
}

/** Replaces `search` by `replacement`, failing unless `search` occurs exactly once. */
export function substituteOnce(source: string, search: string, replacement: string, what: string): string {
  const first = source.indexOf(search);
  const count = first < 0 ? 0 : source.split(search).length - 1;
  if (count !== 1) throw new Error(`${what}: expected ${JSON.stringify(search)} exactly once in the reference example, found it ${count} time(s)`);
  return source.slice(0, first) + replacement + source.slice(first + search.length);
}

/** The reference example with only its host and port changed. */
export function prepareSource(peer: ReferencePeer, port: number): string {
  const source = fs.readFileSync(path.join(peersDir(), PEER_FILES[peer]), 'utf8');
  if (peer === 'client') return substituteOnce(source, 'uri = "ws://127.0.0.1:8080"', `uri = "ws://127.0.0.1:${port}"`, 'reference client URI');
  return substituteOnce(source, '"0.0.0.0", 8080', `"127.0.0.1", ${port}`, 'reference server bind address');
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** One running Python peer: its output lines, waits on them, and cleanup. */
export class PythonPeer {
  readonly lines: OutputLine[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private exited = false;
  /** The process has exited and its output streams have closed: every line is in. */
  private finished = false;
  private readonly waiters = new Set<() => void>();
  private readonly child: ChildProcess;

  private constructor(
    /** Names the peer in failure messages, e.g. "reference client". */
    readonly label: string,
    argv: string[],
    /** A temporary folder of this peer, removed by stop(). */
    private readonly dir: string | null,
    interpreter: string,
  ) {
    this.child = spawn(interpreter, argv, {
      cwd: dir ?? os.tmpdir(),
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.collect('stdout');
    this.collect('stderr');
    this.child.on('error', (error) => this.push('stderr', `[spawn error] ${error.message}`));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      this.notify();
    });
    this.child.on('close', () => {
      this.finished = true;
      this.notify();
    });
  }

  /** Starts the reference example `peer`, talking to (client) or listening on (server) `port`. */
  static start(peer: ReferencePeer, port: number, interpreter = findPython()): PythonPeer {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rv-interop-${peer}-`));
    try {
      const script = path.join(dir, PEER_FILES[peer]);
      fs.writeFileSync(script, prepareSource(peer, port));
      return new PythonPeer(`reference ${peer}`, [script], dir, interpreter);
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Runs `script` (a path) with `args` as it is, e.g. one of our own peers in peersDir(). */
  static run(script: string, args: string[], label = path.basename(script), interpreter = findPython()): PythonPeer {
    return new PythonPeer(label, [script, ...args], null, interpreter);
  }

  get running(): boolean {
    return !this.exited;
  }

  stdoutLines(): string[] {
    return this.lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
  }

  /** Everything the process printed so far, for failure messages. */
  transcript(): string {
    if (this.lines.length === 0) return '(no output)';
    return this.lines.map((line) => `${line.stream === 'stderr' ? '! ' : '> '}${line.text}`).join('\n');
  }

  /**
   * Resolves with the first stdout line (at index >= `from`) matching `pattern`, and its index.
   * Rejects after `timeoutMs`, or as soon as the process exits without printing one.
   */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<{ text: string; index: number }> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const check = (): void => {
        for (let i = from; i < this.lines.length; i++) {
          const line = this.lines[i];
          if (line.stream === 'stdout' && pattern.test(line.text)) return finish(null, { text: line.text, index: i });
        }
        if (this.exited) {
          finish(new Error(`${this.label} exited (code ${this.exitCode}, signal ${this.exitSignal}) without printing a line matching ${pattern}; its output:\n${this.transcript()}`));
        }
      };
      const finish = (error: Error | null, found?: { text: string; index: number }): void => {
        this.waiters.delete(check);
        if (timer) clearTimeout(timer);
        if (error) reject(error);
        else resolve(found as { text: string; index: number });
      };
      timer = setTimeout(() => finish(new Error(`${this.label} printed no line matching ${pattern} within ${timeoutMs} ms; its output:\n${this.transcript()}`)), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves with the exit code and signal once the process has exited and all its output is in; rejects after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!this.finished) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve({ code: this.exitCode, signal: this.exitSignal });
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.label} did not exit within ${timeoutMs} ms; its output:\n${this.transcript()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Stops the process (SIGTERM, then SIGKILL) by its own handle and removes its temp dir. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => {
        if (this.exited) return resolve();
        this.child.once('exit', () => resolve());
      });
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | null = null;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      const outcome = await Promise.race([exited.then(() => 'exited' as const), late]);
      if (timer) clearTimeout(timer);
      if (outcome === 'late') {
        this.child.kill('SIGKILL');
        await exited;
      }
    }
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private collect(stream: 'stdout' | 'stderr'): void {
    const source = this.child[stream];
    if (!source) return;
    source.setEncoding('utf8');
    let pending = '';
    source.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        this.push(stream, pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
      }
    });
    source.on('end', () => {
      if (pending.length > 0) this.push(stream, pending);
      pending = '';
    });
  }

  private push(stream: 'stdout' | 'stderr', text: string): void {
    this.lines.push({ stream, text });
    this.notify();
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

/**
 * Parses a dict or list printed by Python (`print(f"...: {value}")`) holding str, bool,
 * int, float or None, as the reference examples print them, e.g. {'Sensor1': False, 'DriveSpeed': 0.0}.
 */
export function parsePythonLiteral(text: string): unknown {
  const json = text
    .replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\'/g, "'")))
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
    .replace(/\bNone\b/g, 'null');
  try {
    return JSON.parse(json) as unknown;
  } catch (error) {
    throw new Error(`cannot read the Python value ${JSON.stringify(text)}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Mocha hooks for tests that run the reference peers: Python and websockets are checked
 * once, and every peer started through the returned function is stopped after each test.
 */
export function usePythonPeers(): (peer: ReferencePeer, port: number) => PythonPeer {
  const interpreter = findPython();
  const running: PythonPeer[] = [];
  before(function () {
    const problem = pythonProblem(interpreter);
    if (problem) throw new Error(`these tests need Python 3 with websockets (Debian: python3-websockets): ${problem}`);
  });
  afterEach(async function () {
    for (const peer of running.splice(0)) await peer.stop();
  });
  return (peer, port) => {
    const started = PythonPeer.start(peer, port, interpreter);
    running.push(started);
    return started;
  };
}
