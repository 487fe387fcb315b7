/**
 * Helpers that the package's own nodes and simulator share with the engines, reached
 * through the entry point as `internals` so that nothing outside engine/ imports its
 * modules directly. They are not part of the engines' public API: their names and
 * behaviour may change in any release.
 */
export { LogBudget } from './log-budget';
export { clip, escapeUnprintable } from './text';
export { setOwn, hasOwn, isPlainObject } from './record';
export { hostPort } from './network';
