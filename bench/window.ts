/**
 * A measured window: what a measured process and its peer did between two marks, and
 * how a window measured in slices adds up to one.
 */
import type { Mark } from './subject';

/** What a process reports at a mark (a peer's lacks the memory figures). */
export interface PeerMark {
  t: number;
  cpu: { user: number; system: number };
  counters: Record<string, number>;
}

/** What a process did between two marks. */
export interface Delta {
  seconds: number;
  cpuPercent: number;
  cpuMs: number;
  counters: Record<string, number>;
}

export interface Measured {
  subject: Delta;
  peer: Delta;
  /** The subject's mark at the end of the window (its counters then). */
  subjectMark: Mark;
  /** CPU used by other processes of the machine during the window, in % of one core. */
  backgroundPercent: number;
}

export function delta(from: PeerMark, to: PeerMark): Delta {
  const seconds = (to.t - from.t) / 1000;
  const cpuMs = (to.cpu.user - from.cpu.user + to.cpu.system - from.cpu.system) / 1000;
  const counters: Record<string, number> = {};
  for (const key of Object.keys(to.counters)) counters[key] = to.counters[key] - (from.counters[key] ?? 0);
  return { seconds, cpuMs, cpuPercent: percentOf(cpuMs, seconds), counters };
}

/**
 * The slices of one window as one: times and counts added up, the subject's last mark, and
 * the other load weighted by each slice's length.
 */
export function joinSlices(slices: Measured[]): Measured {
  if (slices.length === 0) throw new Error('a window needs at least one slice');
  const seconds = slices.reduce((sum, slice) => sum + slice.subject.seconds, 0);
  const background = slices.reduce((sum, slice) => sum + slice.backgroundPercent * slice.subject.seconds, 0);
  return {
    subject: addDeltas(slices.map((slice) => slice.subject)),
    peer: addDeltas(slices.map((slice) => slice.peer)),
    subjectMark: slices[slices.length - 1].subjectMark,
    backgroundPercent: seconds > 0 ? Math.round((background / seconds) * 10) / 10 : 0,
  };
}

/**
 * The order in which `count` sides take their turns in one slice of a round: rotated by
 * one each slice and each round, so that every side comes first as often as the others.
 * (Each side still mostly follows the same one: the one before it in the list.)
 */
export function sliceOrder(count: number, round: number, slice: number): number[] {
  return Array.from({ length: count }, (_, i) => (i + round + slice) % count);
}

function addDeltas(deltas: Delta[]): Delta {
  const seconds = deltas.reduce((sum, d) => sum + d.seconds, 0);
  const cpuMs = deltas.reduce((sum, d) => sum + d.cpuMs, 0);
  const counters: Record<string, number> = {};
  for (const d of deltas) for (const [key, value] of Object.entries(d.counters)) counters[key] = (counters[key] ?? 0) + value;
  return { seconds, cpuMs, cpuPercent: percentOf(cpuMs, seconds), counters };
}

function percentOf(cpuMs: number, seconds: number): number {
  return seconds > 0 ? (cpuMs / (seconds * 1000)) * 100 : 0;
}
