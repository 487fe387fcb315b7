/**
 * The memory bounds of large frames with the sizes of the red-team findings (npm run
 * test:soak): 8 MiB texts and init names, 4 MiB signal names, 900,000 rejected values in
 * one frame. npm test runs the same tests with small twins (test/engine/limits.test.ts).
 */
import { MEMORY_BOUNDS } from '../helpers/counts';
import { describeMemoryBounds } from '../helpers/memory-bounds';

describeMemoryBounds(MEMORY_BOUNDS.soak);
