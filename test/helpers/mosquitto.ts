/**
 * A real MQTT broker for tests: Debian's mosquitto (apt-get install mosquitto), started on
 * a free port of 127.0.0.1 with a generated configuration (anonymous, no persistence) and
 * stopped by its pid.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { ChildWatch } from './child-watch';
import { freePort, isListening } from './events';

/** The mosquitto binary: Debian's /usr/sbin/mosquitto, else one on PATH; null if there is none. */
export function findMosquitto(): string | null {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  const found = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8', timeout: 5000 });
  const onPath = found.status === 0 ? found.stdout.trim() : '';
  return onPath !== '' ? onPath : null;
}

export class Mosquitto {
  private readonly process: ChildWatch;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {
    this.process = new ChildWatch(child);
  }

  /** Starts a broker on a free loopback port; resolves once it accepts TCP connections. */
  static async start(timeoutMs = 5000): Promise<Mosquitto> {
    const binary = findMosquitto();
    if (!binary) throw new Error('these tests need the mosquitto MQTT broker (Debian: apt-get install mosquitto)');
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-mosquitto-'));
    const config = path.join(dir, 'mosquitto.conf');
    fs.writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
    const broker = new Mosquitto(spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] }), port, dir);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (broker.process.exited) {
        broker.cleanup();
        throw new Error(`mosquitto exited before it listened on 127.0.0.1:${port}:\n${broker.process.output}`);
      }
      if (await isListening(port)) return broker;
      if (Date.now() > deadline) {
        await broker.close();
        throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${broker.process.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** SIGTERM to its pid (SIGKILL after 3 s); resolves once it exited and its folder is gone. */
  async close(): Promise<void> {
    await this.process.stop('SIGTERM', 3000);
    this.cleanup();
  }

  private cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
