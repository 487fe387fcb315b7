import fs from 'fs';
import path from 'path';
import { ConfigObject } from '../../engine/realvirtual/messages';
import { isPlainObject } from '../../engine/realvirtual/record';

interface StoredConfig {
  /** The cycleMs deployed when the file was written: a different deployed value overrides a remote one. */
  deployedCycleMs: number;
  config: ConfigObject;
}

/**
 * The server-mode configuration answered to `config_get`, kept in a JSON file in
 * Node-RED's user directory so that a remote `config_set` survives restarts.
 */
export class ConfigStore {
  constructor(private readonly file: string | null) {}

  /**
   * The stored configuration. Its `publishIntervalMs` stays in force until the user
   * deploys a cycleMs different from the one deployed when it was stored.
   */
  load(deployedCycleMs: number): { config: ConfigObject; problem?: string } {
    const fresh = { config: { publishIntervalMs: deployedCycleMs } };
    if (!this.file || !fs.existsSync(this.file)) return fresh;
    try {
      const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoredConfig;
      if (!isPlainObject(stored) || !isPlainObject(stored.config)) throw new Error('not a stored configuration');
      const config: ConfigObject = { ...stored.config };
      const remoteInterval = config.publishIntervalMs;
      const keepRemote = stored.deployedCycleMs === deployedCycleMs && typeof remoteInterval === 'number' && Number.isFinite(remoteInterval) && remoteInterval >= 0;
      if (!keepRemote) config.publishIntervalMs = deployedCycleMs;
      if (stored.deployedCycleMs !== deployedCycleMs) {
        // The newly deployed cycleMs overrides the remote value for good: store that, so that
        // deploying the old cycleMs again later does not bring the remote value back.
        const problem = this.save(config, deployedCycleMs);
        if (problem) return { config, problem };
      }
      return { config };
    } catch (error) {
      return { ...fresh, problem: `ignored the stored configuration ${this.file}: ${(error as Error).message}` };
    }
  }

  /** Writes atomically (temp file + rename); returns an error message instead of throwing. */
  save(config: ConfigObject, deployedCycleMs: number): string | undefined {
    if (!this.file) return undefined;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      const stored: StoredConfig = { deployedCycleMs, config };
      fs.writeFileSync(temporary, `${JSON.stringify(stored, null, 2)}\n`);
      fs.renameSync(temporary, this.file);
      return undefined;
    } catch (error) {
      return `could not store the configuration in ${this.file}: ${(error as Error).message}`;
    }
  }

  /** Deletes the stored configuration; returns an error message instead of throwing. */
  remove(): string | undefined {
    if (!this.file) return undefined;
    try {
      fs.rmSync(this.file, { force: true });
      return undefined;
    } catch (error) {
      return `could not remove the stored configuration ${this.file}: ${(error as Error).message}`;
    }
  }
}
