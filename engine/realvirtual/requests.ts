import { Clock, systemClock, TimerHandle } from '../clock';
import { ConnectionError, RealvirtualError, TimeoutError } from '../errors';

export type RequestKind = 'import' | 'config_get' | 'config_set';

const ANSWER_NAME: Record<RequestKind, string> = {
  import: 'import_answer',
  config_get: 'config_answer',
  config_set: 'config_result',
};

interface Pending<T> {
  resolve(value: T): void;
  reject(error: RealvirtualError): void;
  timer: TimerHandle;
}

/**
 * Requests to one peer that wait for an answer. The protocol has no request ids,
 * so answers settle the oldest open request of their kind.
 */
export class PendingRequests {
  private readonly queues = new Map<RequestKind, Pending<unknown>[]>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** `peerName` is read when the request times out, so that a name from a late `init` is used. */
  wait<T>(kind: RequestKind, timeoutMs: number, peerName: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = this.queueOf(kind);
      const entry: Pending<unknown> = {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: this.clock.setTimeout(() => {
          const index = queue.indexOf(entry);
          if (index >= 0) queue.splice(index, 1);
          reject(new TimeoutError(`no ${ANSWER_NAME[kind]} from ${peerName()} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      queue.push(entry);
    });
  }

  /** Settles the oldest open request of this kind; false when none was open. */
  settle(kind: RequestKind, value: unknown): boolean {
    const entry = this.queueOf(kind).shift();
    if (!entry) return false;
    this.clock.clearTimeout(entry.timer);
    entry.resolve(value);
    return true;
  }

  rejectAll(reason: string): void {
    for (const [kind, queue] of this.queues) {
      for (const entry of queue.splice(0)) {
        this.clock.clearTimeout(entry.timer);
        entry.reject(new ConnectionError('ERR_NOT_CONNECTED', `${ANSWER_NAME[kind]} never came: ${reason}`));
      }
    }
  }

  private queueOf(kind: RequestKind): Pending<unknown>[] {
    let queue = this.queues.get(kind);
    if (!queue) {
      queue = [];
      this.queues.set(kind, queue);
    }
    return queue;
  }
}
