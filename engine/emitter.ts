import { EventEmitter } from 'events';

// `any`: a map of listener types must accept listeners of every signature, which unknown[] would not.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EventMap = { [event: string]: (...args: any[]) => void };

/**
 * An EventEmitter whose event names and listener signatures are checked by
 * the compiler. It never throws for an unhandled 'error' event: the engine
 * reports problems on its own 'problem' event instead.
 */
export class TypedEmitter<Events extends EventMap> extends EventEmitter {
  override on<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    return super.on(event, listener);
  }

  override once<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    return super.once(event, listener);
  }

  override off<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    return super.off(event, listener);
  }

  override removeListener<E extends keyof Events & string>(event: E, listener: Events[E]): this {
    return super.removeListener(event, listener);
  }

  override emit<E extends keyof Events & string>(event: E, ...args: Parameters<Events[E]>): boolean {
    return super.emit(event, ...args);
  }
}
