/**
 * How much each reliability test injects. The README's results table states these
 * numbers, and test/docs/readme.test.ts checks that it states exactly these.
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
