/**
 * `node dist/bench/run.js --compare a.json b.json`: how far apart two runs' ratios are,
 * each ratio's median in b against a, and whether every one is within the tolerance.
 */
import type { Ratio, Results } from './report';

/** Two full runs of the same code on the same machine should agree this closely. */
export const AGREEMENT = 0.15;

export interface Comparison {
  text: string;
  compared: number;
  /** Ratios whose medians differ by more than AGREEMENT. */
  apart: string[];
}

export function compareResults(a: Results, b: Results, nameA = 'a', nameB = 'b'): Comparison {
  const inB = new Map((b.ratios ?? []).map((r) => [r.id, r]));
  const rows: string[][] = [];
  const apart: string[] = [];
  for (const ra of a.ratios ?? []) {
    const rb = inB.get(ra.id);
    if (!rb) continue;
    const difference = rb.median / ra.median - 1;
    if (Math.abs(difference) > AGREEMENT) apart.push(ra.id);
    rows.push([ra.text, range(ra), range(rb), `${difference >= 0 ? '+' : ''}${(difference * 100).toFixed(1)} %${Math.abs(difference) > AGREEMENT ? ' !' : ''}`]);
  }
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column].length), column === 0 ? 5 : 10));
  const line = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  const missing = (a.ratios ?? []).length - rows.length;
  const text = [
    `${nameA}: ${a.date} (${a.machine.commit ?? 'no commit'}), ${nameB}: ${b.date} (${b.machine.commit ?? 'no commit'})`,
    line(['ratio', `${nameA} median [min–max]`, `${nameB} median [min–max]`, `${nameB} / ${nameA} − 1`]),
    ...rows.map(line),
    '',
    `${rows.length - apart.length} of ${rows.length} ratios agree within ${AGREEMENT * 100} %` +
      (rows.length > 0 ? `; largest difference ${largest(rows)}` : '') +
      (apart.length > 0 ? `; apart: ${apart.join(', ')}` : '') +
      (missing > 0 ? `; ${missing} ratio(s) of ${nameA} not in ${nameB}` : ''),
  ].join('\n');
  return { text, compared: rows.length, apart };
}

function range(r: Ratio): string {
  return `${r.median.toFixed(2)} [${r.min.toFixed(2)}–${r.max.toFixed(2)}]`;
}

function largest(rows: string[][]): string {
  return rows.map((row) => row[3].replace(' !', '')).sort((x, y) => Math.abs(parseFloat(y)) - Math.abs(parseFloat(x)))[0];
}
