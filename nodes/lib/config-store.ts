import { createHash, randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';
import { checkConfig, ConfigError, ConfigObject, internals, isValidCycleMs } from '../../engine';

const { isPlainObject } = internals;

interface StoredConfig {
  /** The cycleMs deployed when the file was written: a different deployed value overrides a remote one. */
  deployedCycleMs: number;
  config: ConfigObject;
}

/**
 * A stored file larger than this many times maxConfigBytes (plus a little) is not even
 * read: older versions wrote indented JSON, and wrote it without any bound.
 */
const FILE_SLACK_FACTOR = 4;
const FILE_SLACK_BYTES = 4096;

/** Ids that versions before hashed names used as they were in the file name (no separators, no leading dot). */
const LEGACY_SAFE_ID = /^[0-9A-Za-z_-][0-9A-Za-z._-]{0,127}$/;

/** The file name of a connection's configuration: a digest of its id, which may hold any characters. */
export function configFileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.config.json`;
}

/** True when `file` resolves to an entry directly inside `dir`. */
export function isInside(dir: string, file: string): boolean {
  const parent = path.resolve(dir);
  const resolved = path.resolve(file);
  return path.dirname(resolved) === parent && resolved !== parent;
}

/**
 * The server-mode configuration answered to `config_get`, kept in a JSON file in
 * `<userDir>/realvirtual` so that a remote `config_set` survives restarts.
 *
 * Writes never block the event loop: they are asynchronous and atomic (a temporary
 * file with a unique name, then a rename), and a burst of saves is coalesced into at
 * most one write in flight plus one with the latest state after it.
 */
export class ConfigStore {
  /** Where the configuration is stored, or null when it is not (no user directory, or an unsafe path). */
  readonly file: string | null;
  /** Files written (renamed into place) so far. */
  writes = 0;
  private readonly dir: string | null;
  /** The file an older version wrote, removed once the configuration is stored under the new name. */
  private legacyFile: string | null = null;
  private pending: StoredConfig | null = null;
  private writing: Promise<void> | null = null;
  private removed = false;
  private sequence = 0;

  /**
   * @param userDir Node-RED's user directory, or null to keep nothing.
   * @param warn receives every problem (the store never throws while running).
   */
  constructor(
    userDir: string | null,
    id: string,
    private readonly maxConfigBytes: number,
    private readonly warn: (message: string) => void,
  ) {
    this.dir = userDir ? path.join(userDir, 'realvirtual') : null;
    let file = this.dir ? path.join(this.dir, configFileName(id)) : null;
    if (this.dir && file && !isInside(this.dir, file)) {
      warn(new ConfigError('ERR_UNSAFE_PATH', `the configuration is not stored: ${file} is not inside ${this.dir}`).message);
      file = null;
    }
    this.file = file;
    if (this.dir && this.file && LEGACY_SAFE_ID.test(id)) {
      const legacy = path.join(this.dir, `${id}.config.json`);
      if (isInside(this.dir, legacy) && legacy !== this.file) this.legacyFile = legacy;
    }
  }

  /**
   * The stored configuration. Its `publishIntervalMs` stays in force until the user
   * deploys a cycleMs different from the one deployed when it was stored. A file over
   * the limits is ignored with a warning; a file of an older version is migrated.
   */
  load(deployedCycleMs: number): ConfigObject {
    const fresh: ConfigObject = { publishIntervalMs: deployedCycleMs };
    const source = this.sourceFile();
    if (!source) return fresh;
    const stored = this.read(source);
    if (!stored) return fresh;
    const config: ConfigObject = { ...stored.config };
    const remoteInterval = config.publishIntervalMs;
    if (remoteInterval !== undefined && !isValidCycleMs(remoteInterval)) {
      this.warn(`ignored the stored publishIntervalMs ${JSON.stringify(remoteInterval)} of ${source}: it must be 0 or from 1 to 60000 ms`);
    }
    const keepRemote = stored.deployedCycleMs === deployedCycleMs && isValidCycleMs(remoteInterval);
    if (!keepRemote) config.publishIntervalMs = deployedCycleMs;
    // A newly deployed cycleMs overrides the remote value for good: store that, so that
    // deploying the old cycleMs again later does not bring the remote value back.
    if (stored.deployedCycleMs !== deployedCycleMs || source !== this.file) this.save(config, deployedCycleMs);
    return config;
  }

  /** Stores the configuration in the background (see the class comment); problems go to `warn`. */
  save(config: ConfigObject, deployedCycleMs: number): void {
    if (!this.file || this.removed) return;
    this.pending = { deployedCycleMs, config };
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once every saved state is written (or has failed and been reported). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Forgets the configuration for good: cancels a pending write, waits for the one in flight, deletes the files. */
  async remove(): Promise<void> {
    this.removed = true;
    this.pending = null;
    await this.flush();
    for (const file of [this.file, this.legacyFile]) {
      if (!file) continue;
      try {
        await fs.promises.rm(file, { force: true });
      } catch (error) {
        this.warn(`could not remove the stored configuration ${file}: ${(error as Error).message}`);
      }
    }
  }

  /** The file to read: ours, else one an older version wrote under the connection's id. */
  private sourceFile(): string | null {
    if (this.file && fs.existsSync(this.file)) return this.file;
    if (this.legacyFile && fs.existsSync(this.legacyFile)) return this.legacyFile;
    return null;
  }

  private read(file: string): StoredConfig | null {
    try {
      const size = fs.statSync(file).size;
      const maxFileBytes = FILE_SLACK_FACTOR * this.maxConfigBytes + FILE_SLACK_BYTES;
      if (size > maxFileBytes) {
        this.warn(
          `ignored the stored configuration ${file}: the file has ${size} bytes, more than ${maxFileBytes} (${FILE_SLACK_FACTOR} × maxConfigBytes + ${FILE_SLACK_BYTES}); it is replaced by the next change`,
        );
        return null;
      }
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredConfig;
      if (!isPlainObject(stored) || !isPlainObject(stored.config)) throw new Error('not a stored configuration');
      const { publishIntervalMs, ...rest } = stored.config;
      checkConfig(rest, this.maxConfigBytes);
      return stored;
    } catch (error) {
      this.warn(`ignored the stored configuration ${file}: ${(error as Error).message}`);
      return null;
    }
  }

  private drain(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.pending) {
        const next = this.pending;
        this.pending = null;
        await this.write(next);
      }
    };
    // .finally runs after the assignment in save() even when run() finishes at once.
    return run().finally(() => {
      this.writing = null;
    });
  }

  private async write(stored: StoredConfig): Promise<void> {
    const file = this.file!;
    const temporary = path.join(this.dir!, `.${path.basename(file)}.${process.pid}.${++this.sequence}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.promises.mkdir(this.dir!, { recursive: true });
      await fs.promises.writeFile(temporary, `${JSON.stringify(stored)}\n`, { flag: 'wx' });
      await fs.promises.rename(temporary, file);
      this.writes++;
    } catch (error) {
      this.warn(`could not store the configuration in ${file}: ${(error as Error).message}`);
      await fs.promises.rm(temporary, { force: true }).catch(() => undefined);
      return;
    }
    const legacy = this.legacyFile;
    if (!legacy) return;
    this.legacyFile = null;
    await fs.promises.rm(legacy, { force: true }).catch((error: Error) => this.warn(`could not remove the older stored configuration ${legacy}: ${error.message}`));
  }
}
