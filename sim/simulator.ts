/**
 * The signal simulator: the conveyor scene behind one engine endpoint (server or client)
 * speaking realvirtual's wire protocol v2. It writes the scene's sensor, counter, position
 * and status each scene step, and reads the drive command (MotorOn, DriveSpeed,
 * ResetCounter) that the other side sends. Import, subscribe and config are answered by
 * the engine; config_set also changes the scene's settings.
 */
import { performance } from 'perf_hooks';
import { ConfigObject, ConfigResult, ConfigSetHandler, Logger, PeerInfo, RealvirtualClient, RealvirtualServer } from '../engine';
import { checkSettings, ConveyorScene, DEFAULT_INPUTS, sceneDeclarations, SceneInputs, SceneSettings, sceneSettingsOf, SCENE_SIGNALS } from './scene';

export type SimulatorMode = 'server' | 'client';

export interface SimulatorOptions {
  mode?: SimulatorMode;
  host?: string;
  /** Server: 0 = any free port. Default 1234. */
  port?: number;
  path?: string;
  /** Client mode: the name sent in `init`. */
  name?: string;
  /** Publish cycle (publishIntervalMs), ms. Default 10. */
  cycleMs?: number;
  /** Initial scene settings. */
  scene?: Partial<SceneSettings>;
  /** Client mode: first reconnect delay in ms (doubles up to 5 s). Default 1000. */
  reconnectIntervalMs?: number;
  /** Where progress lines go (connections, commands received, config changes). */
  log?: (line: string) => void;
  /** Where problems go (bad frames, lost connections). */
  warn?: (line: string) => void;
}

const READ_SIGNALS = SCENE_SIGNALS.filter((signal) => signal.direction === 'read').map((signal) => signal.name);

export class Simulator {
  readonly mode: SimulatorMode;
  readonly endpoint: RealvirtualServer | RealvirtualClient;
  readonly scene: ConveyorScene;
  private readonly log: (line: string) => void;
  private readonly warn: (line: string) => void;
  private timer: NodeJS.Timeout | null = null;
  private lastStep = 0;
  private lastWarning = '';
  private readonly named = new Set<string>();
  private closing: Promise<void> | null = null;

  constructor(options: SimulatorOptions = {}) {
    this.mode = options.mode ?? 'server';
    this.log = options.log ?? (() => undefined);
    this.warn = options.warn ?? (() => undefined);
    this.scene = new ConveyorScene(options.scene);
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (message) => this.warnOnce(message),
      error: (message) => this.warnOnce(message),
    };
    const onConfigSet: ConfigSetHandler = (config, peer) => this.applyConfig(config, peer);
    const { partSpacingMm, partLengthMm, tickMs } = this.scene.settings;
    const common = {
      cycleMs: options.cycleMs ?? 10,
      signals: sceneDeclarations(),
      config: { partSpacingMm, partLengthMm, tickMs },
      onConfigSet,
      logger,
    };
    if (this.mode === 'server') {
      this.endpoint = new RealvirtualServer({ ...common, host: options.host, port: options.port, path: options.path });
    } else {
      const first = options.reconnectIntervalMs ?? 1000;
      this.endpoint = new RealvirtualClient({
        ...common,
        host: options.host,
        port: options.port,
        path: options.path,
        clientName: options.name ?? 'realvirtual-sim',
        // Only the drive command comes from the server; the subscribe is answered with a snapshot of it.
        subscribe: READ_SIGNALS,
        autoReconnect: true,
        reconnectIntervalMs: first,
        maxReconnectIntervalMs: Math.max(first, 5000),
      });
    }
    this.watch();
  }

  /** ws://host:port/path of the server (ours, or the one we connect to). */
  get url(): string {
    return this.endpoint.url;
  }

  /** The drive command as the scene sees it now. */
  inputs(): SceneInputs {
    const read = this.endpoint.values('read');
    return {
      MotorOn: typeof read.MotorOn === 'boolean' ? read.MotorOn : DEFAULT_INPUTS.MotorOn,
      DriveSpeed: typeof read.DriveSpeed === 'number' ? read.DriveSpeed : DEFAULT_INPUTS.DriveSpeed,
      ResetCounter: typeof read.ResetCounter === 'boolean' ? read.ResetCounter : DEFAULT_INPUTS.ResetCounter,
    };
  }

  /**
   * Server: starts listening (rejects with the engine's ERR_LISTEN error, e.g. a port in
   * use). Client: starts connecting and resolves at once; it keeps retrying until closed.
   */
  async start(): Promise<void> {
    if (this.endpoint instanceof RealvirtualServer) await this.endpoint.listen();
    else void this.endpoint.connect();
    if (this.closing) return;
    this.endpoint.writeMany(this.scene.outputs(this.inputs()));
    this.startTimer();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.stopTimer();
      this.closing = this.endpoint.close();
    }
    return this.closing;
  }

  private startTimer(): void {
    this.stopTimer();
    this.lastStep = performance.now();
    const tickMs = this.scene.settings.tickMs;
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = performance.now();
    // A stalled event loop (or a suspended machine) must not teleport the belt.
    const dt = Math.min(now - this.lastStep, 5 * this.scene.settings.tickMs);
    this.lastStep = now;
    this.endpoint.writeMany(this.scene.step(dt, this.inputs()));
  }

  private applyConfig(config: ConfigObject, peer: PeerInfo): ConfigResult {
    const settings = sceneSettingsOf(config);
    const next = { ...this.scene.settings, ...settings };
    const problem = checkSettings(next);
    if (problem) return { success: false, message: problem };
    // Checks publishIntervalMs and merges every key (other keys are kept and answered by config_get).
    this.endpoint.mergeConfig(config);
    const tickChanged = next.tickMs !== this.scene.settings.tickMs;
    this.scene.configure(settings);
    if (tickChanged && this.timer) this.startTimer();
    this.log(`config set by ${peer.name}: ${JSON.stringify(config)}`);
    return { success: true, message: 'Configuration saved and applied' };
  }

  private warnOnce(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.warn(message);
  }

  private watch(): void {
    const endpoint = this.endpoint;
    endpoint.on('init', (peer) => {
      if (this.mode !== 'server' || this.named.has(peer.id)) return;
      this.named.add(peer.id);
      this.log(`client connected: ${peer.name}`);
    });
    endpoint.on('disconnect', (peer, reason) => {
      this.named.delete(peer.id);
      if (this.mode === 'server') this.log(`client disconnected: ${peer.name} (${reason})`);
    });
    endpoint.on('status', (status) => {
      if (this.mode !== 'client') return;
      if (status.state === 'connected') {
        this.lastWarning = '';
        this.log(`connected to ${this.url}`);
      }
    });
    endpoint.on('subscribe', (peer, names) => this.log(`${peer.name} subscribed to ${names.length > 0 ? names.join(', ') : '(nothing)'}`));
    endpoint.on('data', (event) => {
      if (event.changed.length === 0) return;
      const text = event.changed.map((name) => `${name} = ${JSON.stringify(event.values[name])}`).join(', ');
      this.log(`${event.peer.name} set ${text}`);
    });
  }
}
