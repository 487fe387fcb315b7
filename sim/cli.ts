#!/usr/bin/env node
/**
 * realvirtual-sim: a small realvirtual scene (a conveyor with a sensor, a drive and a
 * part counter) that speaks the WebSocket Realtime Interface, as a server or a client,
 * so that flows can be built and tested without Unity.
 *
 * Exit codes: 0 stopped (signal or --duration), 1 failed (e.g. port in use), 2 bad command line.
 */
import fs from 'fs';
import path from 'path';
import { RealvirtualError } from '../engine';
import { DEFAULT_SETTINGS, SCENE_SIGNALS } from './scene';
import { Simulator, SimulatorMode } from './simulator';

const PROGRAM = 'realvirtual-sim';
/** How long a shutdown may take before the process exits anyway. */
const STOP_DEADLINE_MS = 3000;

class UsageError extends Error {}

export interface CliOptions {
  mode: SimulatorMode;
  host: string;
  port: number;
  path: string;
  name: string;
  cycleMs: number;
  durationS: number | null;
  quiet: boolean;
  help: boolean;
  version: boolean;
}

const VALUE_OPTIONS = new Set(['mode', 'host', 'port', 'path', 'name', 'cycle', 'duration']);
const FLAGS: Record<string, 'quiet' | 'help' | 'version'> = { quiet: 'quiet', q: 'quiet', help: 'help', h: 'help', version: 'version', v: 'version' };

function numberOption(option: string, text: string, check: (value: number) => boolean, expected: string): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value) || !check(value)) throw new UsageError(`--${option} must be ${expected}, got ${JSON.stringify(text)}`);
  return value;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    mode: 'server',
    host: '127.0.0.1',
    port: 1234,
    path: '',
    name: PROGRAM,
    cycleMs: 10,
    durationS: null,
    quiet: false,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--?([A-Za-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = match[1];
    if (FLAGS[name] && (name.length === 1) === !arg.startsWith('--')) {
      if (match[2] !== undefined) throw new UsageError(`--${name} takes no value`);
      options[FLAGS[name]] = true;
      continue;
    }
    if (!arg.startsWith('--') || !VALUE_OPTIONS.has(name)) throw new UsageError(`unknown option ${arg.split('=')[0]}`);
    let value = match[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    switch (name) {
      case 'mode':
        if (value !== 'server' && value !== 'client') throw new UsageError(`--mode must be "server" or "client", got ${JSON.stringify(value)}`);
        options.mode = value;
        break;
      case 'host':
        if (value.trim() === '') throw new UsageError('--host must not be empty');
        options.host = value.trim();
        break;
      case 'port':
        options.port = numberOption(name, value, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number from 0 to 65535');
        break;
      case 'path':
        options.path = value;
        break;
      case 'name':
        options.name = value;
        break;
      case 'cycle':
        options.cycleMs = numberOption(name, value, (n) => n >= 0, 'a number of ms >= 0');
        break;
      case 'duration':
        options.durationS = numberOption(name, value, (n) => n > 0, 'a number of seconds > 0');
        break;
    }
  }
  if (options.mode === 'client' && options.port === 0) throw new UsageError('--port 0 (any free port) only works in server mode');
  return options;
}

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

export function helpText(): string {
  const signals = SCENE_SIGNALS.map(
    (s) =>
      `  ${s.name.padEnd(13)} ${s.type.padEnd(5)}  ${s.direction === 'write' ? 'sim writes' : 'sim reads '}  ${s.unityType.padEnd(14)}  ${s.meaning}${s.direction === 'read' ? ` (starts ${JSON.stringify(s.initial)})` : ''}`,
  );
  return [
    `Usage: ${PROGRAM} [options]`,
    '',
    "A small realvirtual scene that speaks realvirtual's WebSocket Realtime Interface (wire",
    'protocol v2), to build and test flows without Unity: a conveyor whose drive moves parts',
    'past a sensor that a counter counts. It answers import_request, subscribe, config_get',
    'and config_set.',
    '',
    'Options:',
    '  --mode server|client  server: clients (e.g. Node-RED) connect to it (default);',
    '                        client: it connects to a server, retrying until it is there',
    '  --host <address>      bind address (server) or server address (client); default 127.0.0.1',
    '  --port <port>         default 1234; in server mode 0 picks a free port',
    '  --path <path>         URL path, e.g. /rv; a server then accepts only this path',
    `  --name <name>         client mode: the name sent in init; default ${PROGRAM}`,
    '  --cycle <ms>          publish cycle (publishIntervalMs); default 10, 0 = send every change at once',
    '  --duration <s>        stop after this many seconds; default: run until Ctrl+C',
    '  --quiet, -q           print only errors',
    '  --help, -h            show this help',
    '  --version, -v         show the version',
    '',
    'Signals (Unity type: the signal in a realvirtual scene, which the sim plays; its',
    'import_answer names each from its own side, as the engine does: PLCOutput = it writes):',
    ...signals,
    '',
    `Scene (config_get / config_set): publishIntervalMs, partSpacingMm (${DEFAULT_SETTINGS.partSpacingMm}),`,
    `partLengthMm (${DEFAULT_SETTINGS.partLengthMm}), tickMs (scene step, ${DEFAULT_SETTINGS.tickMs}).`,
    '',
    'Exit codes: 0 stopped (Ctrl+C, SIGTERM or --duration), 1 failed (e.g. port in use), 2 bad options.',
  ].join('\n');
}

function timestamp(): string {
  return new Date().toTimeString().slice(0, 8);
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${PROGRAM}: ${error.message}\nRun "${PROGRAM} --help" for the options.\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }

  const out = (line: string): void => {
    if (!options.quiet) process.stdout.write(`${timestamp()} ${line}\n`);
  };
  const err = (line: string): void => {
    process.stderr.write(`${timestamp()} ${PROGRAM}: ${line}\n`);
  };

  let sim: Simulator;
  try {
    sim = new Simulator({
      mode: options.mode,
      host: options.host,
      port: options.port,
      path: options.path,
      name: options.name,
      cycleMs: options.cycleMs,
      log: out,
      warn: err,
    });
  } catch (error) {
    process.stderr.write(`${PROGRAM}: ${(error as Error).message}\n`);
    return 2;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    let durationTimer: NodeJS.Timeout | null = null;
    const stop = (why: string, code: number): void => {
      if (stopping) return;
      stopping = true;
      if (durationTimer) clearTimeout(durationTimer);
      out(`stopping (${why})`);
      const deadline = setTimeout(() => {
        err(`could not stop within ${STOP_DEADLINE_MS} ms: exiting anyway`);
        resolve(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      sim.close().then(
        () => {
          clearTimeout(deadline);
          out('stopped');
          resolve(code);
        },
        (error: Error) => {
          clearTimeout(deadline);
          err(`error while stopping: ${error.message}`);
          resolve(1);
        },
      );
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal, 0));

    sim.start().then(
      () => {
        if (stopping) return;
        const writes = SCENE_SIGNALS.filter((s) => s.direction === 'write').map((s) => `${s.name} (${s.type})`);
        const reads = SCENE_SIGNALS.filter((s) => s.direction === 'read').map((s) => `${s.name} (${s.type}) = ${JSON.stringify(s.initial)}`);
        const where = options.mode === 'server' ? `server listening on ${sim.url}` : `client "${options.name}" of ${sim.url} (connecting; retries until the server is up)`;
        out(`${PROGRAM} ${version()}: conveyor scene, ${where}, publish cycle ${sim.endpoint.cycleMs} ms`);
        out(`  writes ${writes.join(', ')}`);
        out(`  reads  ${reads.join(', ')}`);
        if (options.durationS !== null) {
          durationTimer = setTimeout(() => stop(`--duration ${options.durationS} s elapsed`, 0), options.durationS * 1000);
        } else {
          out('Ctrl+C to stop.');
        }
      },
      (error: Error) => {
        stopping = true;
        // The engine has logged a listen error already (through warn): only the hint is added.
        if (error instanceof RealvirtualError && error.code === 'ERR_LISTEN') {
          process.stderr.write(`${PROGRAM}: choose another port with --port (or stop the program that holds port ${options.port}).\n`);
        } else {
          process.stderr.write(`${PROGRAM}: ${error.message}\n`);
        }
        void sim.close().finally(() => resolve(1));
      },
    );
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Everything is closed; should anything still hold the event loop, do not hang.
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (error: Error) => {
      process.stderr.write(`${PROGRAM}: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
