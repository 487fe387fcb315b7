/**
 * Fuzzing over real sockets, the quick run of `npm test`: seeded random and mutated
 * frames (helpers/fuzz.ts) at the server and at the client. The full run of 10,000
 * frames per side is in test/soak (npm run test:soak). Reproduce a failure with the seed
 * it prints: RV_FUZZ_SEED=<seed> npx mocha --no-config 'dist/test/engine/fuzz.test.js'.
 */
import { BAD_INPUT } from '../helpers/counts';
import { describeFuzz } from '../helpers/fuzz';

describeFuzz(BAD_INPUT.quickFuzzFrames, process.env.RV_FUZZ_SEED ? Number(process.env.RV_FUZZ_SEED) : BAD_INPUT.fuzzSeed);
