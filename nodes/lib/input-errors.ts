import { RealvirtualError, SignalError, SignalErrors } from '../../engine';
import { DoneFunction, Node } from './red';
import { errorStatus } from './status';

/**
 * Reports a bad input message to a Catch node (through done) and on the node's status;
 * the connection's status comes back with the next good message.
 */
export class InputErrors {
  private showing = false;

  constructor(
    private readonly node: Node,
    private readonly restore: () => void,
  ) {}

  fail(error: Error, done: DoneFunction): void {
    this.showing = true;
    this.node.status(errorStatus(error));
    done(error);
  }

  /** Runs the node's work for one message: done() when it succeeds, fail() with what it threw. */
  attempt(done: DoneFunction, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error as Error, done);
      return;
    }
    this.succeeded();
    done();
  }

  succeeded(): void {
    if (!this.showing) return;
    this.showing = false;
    this.restore();
  }
}

/** One Error for a message whose signals were partly rejected: it names each signal and why. */
export function combineSignalErrors(errors: SignalError[]): Error {
  return errors.length === 1 ? errors[0] : new SignalErrors(errors);
}

/** One Error for several failures (e.g. clients that did not answer), keeping the first one's code for Catch nodes. */
export function combineErrors(errors: RealvirtualError[]): RealvirtualError {
  if (errors.length === 1) return errors[0];
  return new RealvirtualError(errors[0].code, errors.map((error) => error.message).join('; '));
}
