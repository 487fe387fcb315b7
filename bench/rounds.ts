/**
 * Figures of an A/B comparison measured in rounds: the row of the median round and the
 * ratio of the two sides computed per round, as median and range.
 */
import type { Ratio } from './report';

export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The round whose `figure` is the median one (of an even count, the lower middle one), with every round's figure in order. */
export function medianRound<Row extends object>(rows: Row[], figure: (row: Row) => number): Row & { rounds: number[] } {
  const order = rows.map((row, index) => ({ index, value: figure(row) })).sort((a, b) => a.value - b.value);
  const median = rows[order[(rows.length - 1) >> 1].index];
  return { ...median, rounds: rows.map(figure) };
}

/** `a / b` of each round, both sides measured in that round. */
export function ratioOf(id: string, text: string, a: number[], b: number[]): Ratio {
  const rounds = a.slice(0, b.length).map((value, i) => value / b[i]);
  const three = (value: number): number => Math.round(value * 1000) / 1000;
  return { id, text, median: three(medianOf(rounds)), min: three(Math.min(...rounds)), max: three(Math.max(...rounds)), rounds: rounds.map(three) };
}
