import { internals, OptionError } from '../../engine';
import { Node, NodeDefinition } from './red';
import { errorStatus } from './status';

const { setOwn } = internals;

/**
 * The `rename` table of realvirtual-in and realvirtual-out: how realvirtual's signal names
 * are called in another system (MQTT topics, PLC tags, OPC UA node ids). One line per
 * name, `realvirtualName=externalName`, split at the first "="; a line may instead hold a
 * pattern with one "*" on each side, which stands for the same text on both, e.g.
 * `*=rv/*` or `*=ns=1;s=*`. Exact lines come before patterns, patterns apply in their
 * order, and a name that no line matches keeps its name.
 */
export class SignalRenames {
  private readonly toExternalExact = new Map<string, string>();
  private readonly toRealvirtualExact = new Map<string, string>();
  private readonly patterns: Array<{ realvirtual: Pattern; external: Pattern }> = [];

  /** The table of `text` (a node's `rename` property); null when it holds no line. Throws OptionError on a bad line. */
  static parse(text: unknown): SignalRenames | null {
    if (text === undefined || text === null || text === '') return null;
    if (typeof text !== 'string') throw new OptionError(`rename must be text of "realvirtualName=externalName" lines, got ${typeof text}`);
    const renames = new SignalRenames();
    const lines = text.split(/\r?\n/);
    lines.forEach((raw, index) => {
      const line = raw.trim();
      if (line !== '') renames.add(line, index + 1);
    });
    return renames.isEmpty() ? null : renames;
  }

  private add(line: string, lineNumber: number): void {
    const where = `rename line ${lineNumber} ("${line}")`;
    const equals = line.indexOf('=');
    if (equals < 0) throw new OptionError(`${where}: expected realvirtualName=externalName`);
    const realvirtual = line.slice(0, equals).trim();
    const external = line.slice(equals + 1).trim();
    if (realvirtual === '' || external === '') throw new OptionError(`${where}: a name is missing on one side of "="`);
    const stars = [realvirtual, external].map((side) => side.split('*').length - 1);
    if (stars[0] > 1 || stars[1] > 1 || stars[0] !== stars[1]) throw new OptionError(`${where}: a pattern has exactly one "*" on each side`);
    if (stars[0] === 1) {
      if (this.patterns.some((p) => p.realvirtual.text === realvirtual || p.external.text === external)) throw new OptionError(`${where}: this pattern is already in the table`);
      this.patterns.push({ realvirtual: new Pattern(realvirtual), external: new Pattern(external) });
      return;
    }
    if (this.toExternalExact.has(realvirtual)) throw new OptionError(`${where}: ${realvirtual} is renamed twice`);
    if (this.toRealvirtualExact.has(external)) throw new OptionError(`${where}: two signals are renamed to ${external}`);
    this.toExternalExact.set(realvirtual, external);
    this.toRealvirtualExact.set(external, realvirtual);
  }

  private isEmpty(): boolean {
    return this.toExternalExact.size === 0 && this.patterns.length === 0;
  }

  /** realvirtual's name → the external one. */
  toExternal(name: string): string {
    const exact = this.toExternalExact.get(name);
    if (exact !== undefined) return exact;
    for (const { realvirtual, external } of this.patterns) {
      const part = realvirtual.match(name);
      if (part !== null) return external.fill(part);
    }
    return name;
  }

  /** An external name → realvirtual's. */
  toRealvirtual(name: string): string {
    const exact = this.toRealvirtualExact.get(name);
    if (exact !== undefined) return exact;
    for (const { realvirtual, external } of this.patterns) {
      const part = external.match(name);
      if (part !== null) return realvirtual.fill(part);
    }
    return name;
  }
}

/** `prefix*suffix`: matches names with that prefix and suffix around a non-empty part. */
class Pattern {
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(readonly text: string) {
    const star = text.indexOf('*');
    this.prefix = text.slice(0, star);
    this.suffix = text.slice(star + 1);
  }

  /** The part of `name` that "*" stands for; null when the name does not match. */
  match(name: string): string | null {
    if (name.length <= this.prefix.length + this.suffix.length) return null;
    if (!name.startsWith(this.prefix) || !name.endsWith(this.suffix)) return null;
    return name.slice(this.prefix.length, name.length - this.suffix.length);
  }

  fill(part: string): string {
    return this.prefix + part + this.suffix;
  }
}

/**
 * The node's rename table (null: none). A bad table is reported on the node (red status,
 * an error a Catch node sees) and gives undefined: the node then stays out of the flow
 * rather than send signals under wrong names.
 */
export function renamesOf(node: Node, definition: NodeDefinition): SignalRenames | null | undefined {
  try {
    return SignalRenames.parse(definition.rename);
  } catch (error) {
    node.status(errorStatus(error as Error));
    node.error(error as Error);
    return undefined;
  }
}

/** A copy of `record` with its keys renamed by `rename`. */
export function renameKeys<T>(record: Record<string, T>, rename: (name: string) => string): Record<string, T> {
  const copy: Record<string, T> = {};
  for (const name of Object.keys(record)) setOwn(copy, rename(name), record[name]);
  return copy;
}
