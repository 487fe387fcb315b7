/**
 * Fuzzing over real sockets, the full run (npm run test:soak): 10,000 seeded random and
 * mutated frames at the server and as many at the client (see helpers/fuzz.ts).
 * Reproduce a failure with the seed it prints: RV_FUZZ_SEED=<seed> npm run test:soak.
 */
import { BAD_INPUT } from '../helpers/counts';
import { describeFuzz } from '../helpers/fuzz';

describeFuzz(BAD_INPUT.fuzzFrames, process.env.RV_FUZZ_SEED ? Number(process.env.RV_FUZZ_SEED) : BAD_INPUT.fuzzSeed);
