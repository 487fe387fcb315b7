/**
 * The simulator's demo scene: a conveyor driven by a drive, parts on the belt at a fixed
 * spacing, a sensor that sees each part pass and a counter of the parts that passed.
 * Pure model: no sockets, no timers; `step` advances it by a given time.
 */
import type { ConfigObject, SignalDeclaration } from '../engine';

/** What the scene reads (PLCOutput signals in a Unity scene: the PLC side sets them). */
export interface SceneInputs {
  MotorOn: boolean;
  /** mm/s; negative runs the belt backwards. */
  DriveSpeed: number;
  /** While true, Counter is held at 0. */
  ResetCounter: boolean;
}

/** What the scene writes (PLCInput signals in a Unity scene: the PLC side reads them). */
export type SceneOutputs = {
  Sensor1: boolean;
  Counter: number;
  /** mm travelled by the belt, to 0.1 mm. */
  DrivePosition: number;
  Status: 'Running' | 'Stopped';
};

export interface SceneSettings {
  /** Belt travel between the leading edges of two parts, mm. */
  partSpacingMm: number;
  /** Length of a part along the belt, mm (the sensor sees it for this much travel). */
  partLengthMm: number;
  /** Scene time step, ms. */
  tickMs: number;
}

export const DEFAULT_SETTINGS: Readonly<SceneSettings> = { partSpacingMm: 600, partLengthMm: 200, tickMs: 100 };

export const DEFAULT_INPUTS: Readonly<SceneInputs> = { MotorOn: true, DriveSpeed: 200, ResetCounter: false };

/** One signal of the scene, for the help text and the README. */
export interface SceneSignal {
  name: keyof SceneInputs | keyof SceneOutputs;
  type: 'Bool' | 'Int' | 'Float' | 'Text';
  /** Seen from the simulator (our engine's terms): it writes or it reads the signal. */
  direction: 'write' | 'read';
  /** The signal's type in a realvirtual (Unity) scene. */
  unityType: string;
  initial: boolean | number | string;
  meaning: string;
}

export const SCENE_SIGNALS: readonly SceneSignal[] = [
  { name: 'Sensor1', type: 'Bool', direction: 'write', unityType: 'PLCInputBool', initial: false, meaning: 'true while a part is in front of the sensor' },
  { name: 'Counter', type: 'Int', direction: 'write', unityType: 'PLCInputInt', initial: 0, meaning: 'parts that reached the sensor' },
  { name: 'DrivePosition', type: 'Float', direction: 'write', unityType: 'PLCInputFloat', initial: 0, meaning: 'belt travel in mm' },
  { name: 'Status', type: 'Text', direction: 'write', unityType: 'PLCInputText', initial: 'Running', meaning: '"Running" or "Stopped"' },
  { name: 'MotorOn', type: 'Bool', direction: 'read', unityType: 'PLCOutputBool', initial: DEFAULT_INPUTS.MotorOn, meaning: 'the drive runs while true' },
  { name: 'DriveSpeed', type: 'Float', direction: 'read', unityType: 'PLCOutputFloat', initial: DEFAULT_INPUTS.DriveSpeed, meaning: 'belt speed in mm/s (negative: backwards)' },
  { name: 'ResetCounter', type: 'Bool', direction: 'read', unityType: 'PLCOutputBool', initial: DEFAULT_INPUTS.ResetCounter, meaning: 'holds Counter at 0 while true' },
];

/** The scene's signals as engine declarations. */
export function sceneDeclarations(): SignalDeclaration[] {
  return SCENE_SIGNALS.map(({ name, type, direction, initial }) => ({ name, type, direction, value: initial }));
}

const INT32_MAX = 2147483647;

function mod(value: number, divisor: number): number {
  return ((value % divisor) + divisor) % divisor;
}

export class ConveyorScene {
  private settingsValue: SceneSettings;
  private position = 0;
  private counter = 0;

  constructor(settings: Partial<SceneSettings> = {}) {
    this.settingsValue = { ...DEFAULT_SETTINGS, ...settings };
    const problem = checkSettings(this.settingsValue);
    if (problem) throw new RangeError(problem);
  }

  get settings(): Readonly<SceneSettings> {
    return this.settingsValue;
  }

  /** Changes the settings; throws a RangeError (and changes nothing) if they are invalid. */
  configure(settings: Partial<SceneSettings>): void {
    const next = { ...this.settingsValue, ...settings };
    const problem = checkSettings(next);
    if (problem) throw new RangeError(problem);
    this.settingsValue = next;
  }

  /** The outputs now, without advancing. */
  outputs(inputs: SceneInputs): SceneOutputs {
    const { partSpacingMm, partLengthMm } = this.settingsValue;
    // Part k covers the sensor while the belt is between k·spacing + lead and k·spacing + lead + length:
    // at position 0 the sensor is free and the first part arrives after `lead` mm.
    const lead = partSpacingMm - partLengthMm;
    const running = inputs.MotorOn && inputs.DriveSpeed !== 0 && Number.isFinite(inputs.DriveSpeed);
    return {
      Sensor1: mod(this.position - lead, partSpacingMm) < partLengthMm,
      Counter: this.counter,
      DrivePosition: Math.round(this.position * 10) / 10,
      Status: running ? 'Running' : 'Stopped',
    };
  }

  /** Advances the scene by `dtMs` with the given inputs and returns the new outputs. */
  step(dtMs: number, inputs: SceneInputs): SceneOutputs {
    const { partSpacingMm, partLengthMm } = this.settingsValue;
    const lead = partSpacingMm - partLengthMm;
    const speed = inputs.MotorOn && Number.isFinite(inputs.DriveSpeed) ? inputs.DriveSpeed : 0;
    const before = this.position;
    const after = before + (speed * Math.max(0, dtMs)) / 1000;
    this.position = after;
    // Every leading edge that reached the sensor during this step counts, however short the pulse.
    const arrived = Math.floor((after - lead) / partSpacingMm) - Math.floor((before - lead) / partSpacingMm);
    if (arrived > 0) this.counter += arrived;
    if (inputs.ResetCounter || this.counter > INT32_MAX) this.counter = 0;
    return this.outputs(inputs);
  }
}

function positive(name: string, value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? null : `${name} must be a number > 0, got ${JSON.stringify(value)}`;
}

/** Why the settings are invalid, or null. */
export function checkSettings(settings: SceneSettings): string | null {
  const problem = positive('partSpacingMm', settings.partSpacingMm) ?? positive('partLengthMm', settings.partLengthMm);
  if (problem) return problem;
  if (settings.partLengthMm >= settings.partSpacingMm) {
    return `partLengthMm (${settings.partLengthMm}) must be less than partSpacingMm (${settings.partSpacingMm})`;
  }
  if (typeof settings.tickMs !== 'number' || !Number.isFinite(settings.tickMs) || settings.tickMs < 10 || settings.tickMs > 10000) {
    return `tickMs must be a number from 10 to 10000, got ${JSON.stringify(settings.tickMs)}`;
  }
  return null;
}

const SETTING_KEYS: ReadonlyArray<keyof SceneSettings> = ['partSpacingMm', 'partLengthMm', 'tickMs'];

/** The scene settings named in a `config_set` object (other keys are not the scene's). */
export function sceneSettingsOf(config: ConfigObject): Partial<SceneSettings> {
  const settings: Partial<SceneSettings> = {};
  for (const key of SETTING_KEYS) {
    if (Object.prototype.hasOwnProperty.call(config, key)) settings[key] = config[key] as number;
  }
  return settings;
}
