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
import os from 'os';

export interface Placement {
  /** The CPU list (taskset's syntax) of the measured processes, and of their peers. */
  subjects: string;
  peers: string;
}

/** The placement this machine allows: null with fewer than two CPUs, off Linux, or without taskset. */
export function placementOfMachine(): Placement | null {
  const cpus = os.cpus().length;
  if (process.platform !== 'linux' || cpus < 2 || !hasTaskset()) return null;
  return { subjects: '0', peers: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

/** Binds every thread of process `pid` (and the threads it starts later) to `cpuList`. */
export function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpuList, String(pid)], { stdio: 'ignore' });
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
