/**
 * Which CPUs the measured processes and their peers run on.
 *
 * This machine's two cores are a VM's virtual CPUs, and how fast one of them does socket
 * work changes from minute to minute with the host's load, while a pure computation loop
 * runs equally fast on both. Left to the scheduler, the two sides of a comparison landed on
 * whichever core was free: the raw `ws` baseline at 10 signals per message ran at 250 k or
 * 450 k messages per CPU-second in consecutive fresh processes, and the ratios at 10 and 100
 * signals spread over 0.7–1.8× within one run. With every measured process on the same core
 * and every peer on the others, both sides of a round share that core's speed of the moment.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';

export interface Placement {
  /** The CPU list (taskset's syntax) of the measured processes, and of their peers. */
  subjects: string;
  peers: string;
}

/** The placement this machine allows: null with fewer than two CPUs allowed, off Linux, or where taskset cannot pin. */
export function placementOfMachine(): Placement | null {
  if (process.platform !== 'linux') return null;
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const placement = placementFor(parseCpuList(/^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? ''));
  return placement && canPin(placement.subjects) ? placement : null;
}

/** The first allowed CPU for the measured processes, the rest for their peers; null below two. */
export function placementFor(allowed: number[]): Placement | null {
  if (allowed.length < 2) return null;
  return { subjects: String(allowed[0]), peers: allowed.slice(1).join(',') };
}

/** "0-2,5" → [0, 1, 2, 5] (the kernel's CPU list syntax); anything unreadable is left out. */
export function parseCpuList(list: string): number[] {
  return list
    .split(',')
    .filter((range) => range.trim() !== '')
    .flatMap((range) => {
      const [first, last = first] = range.split('-').map((part) => Number(part.trim()));
      return Number.isInteger(first) && Number.isInteger(last) && first <= last ? Array.from({ length: last - first + 1 }, (_, i) => first + i) : [];
    });
}

/** Binds every thread of process `pid` (and the threads it starts later) to `cpuList`. */
export function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpuList, String(pid)], { stdio: 'ignore' });
}

function canPin(cpuList: string): boolean {
  try {
    execFileSync('taskset', ['--cpu-list', cpuList, 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
