/**
 * How much each reliability test injects. The README's results table states these
 * numbers, and test/docs/reliability.test.ts checks that it states exactly these.
 */
export const FAULTS = {
  /** Server process restarts while the client writes (SIGKILL and SIGTERM in turn). */
  restarts: 6,
  /** Failed connection attempts in the DNS/refused test (half ENOTFOUND, half ECONNREFUSED). */
  refusedAttempts: 40,
};

export const BAD_INPUT = {
  /** Seeded random and mutated frames sent to the server, and as many to the client (npm run test:soak). */
  fuzzFrames: 10000,
  /** The same, in the quick run of npm test. */
  quickFuzzFrames: 1000,
  /** The seed of the fuzz runs (override with RV_FUZZ_SEED=<n> to explore). */
  fuzzSeed: 20240607,
};

export const DEPLOYS = {
  /** "nodes" deploys in the soak test. */
  partial: 200,
  /** "full" deploys in the soak test. */
  full: 50,
  /** Deploys before the first measurement (JIT, caches, Node-RED's first-use allocations). */
  warmUp: { partial: 20, full: 5 },
  /** Heap growth allowed after GC across all of them, in MiB (compiled code included). */
  heapToleranceMiB: 8,
  /**
   * The same without V8's code space, in MiB: measured +0.2 to +0.7 (bytecode and type
   * feedback live outside code space; a heap snapshot diff shows JS objects +3 KB).
   * 2 MiB still catches a leak of 8 KB per deploy.
   */
  dataToleranceMiB: 2,
};

const KiB = 1024;
const MiB = 1024 * KiB;

/** How large the peer's frames of each memory-bound test are (test/helpers/memory-bounds.ts). */
export interface MemoryBoundSizes {
  /** New Text signals over maxTextBytes (65536), one client. */
  texts: { count: number; bytes: number };
  /** New signal names over maxNameLength (256), then the client leaves. */
  names: { count: number; bytes: number };
  /** Open clients whose init names are over maxClientName (256). */
  initNames: { count: number; bytes: number };
  /** Each text of the 20 shaped frames of 256 Text signals. */
  shapedTextBytes: number;
  /** Null values in one data frame, non-string types in one import answer, values beyond maxSignals in one frame. */
  rejected: { nulls: number; importTypes: number; beyondMaxSignals: number };
}

export const MEMORY_BOUNDS: { soak: MemoryBoundSizes; quick: MemoryBoundSizes } = {
  /** The sizes of the red-team findings, which prove the memory bounds (npm run test:soak). */
  soak: {
    texts: { count: 30, bytes: 8 * MiB },
    names: { count: 40, bytes: 4 * MiB },
    initNames: { count: 30, bytes: 8 * MiB },
    shapedTextBytes: 20 * KiB,
    rejected: { nulls: 900000, importTypes: 1000000, beyondMaxSignals: 200000 },
  },
  /** Small twins through the same code paths, in npm test. */
  quick: {
    texts: { count: 5, bytes: 128 * KiB },
    names: { count: 5, bytes: 64 * KiB },
    initNames: { count: 5, bytes: 64 * KiB },
    shapedTextBytes: KiB,
    rejected: { nulls: 3000, importTypes: 3000, beyondMaxSignals: 3000 },
  },
};
