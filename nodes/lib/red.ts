/**
 * The parts of Node-RED's runtime API these nodes use. Node-RED ships no types of
 * its own; these are kept small and honest rather than pulling in a large typing package.
 */
export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFunction = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null) => void;
export type DoneFunction = (error?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null> | null): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(message: string): void;
  warn(message: string): void;
  error(error: string | Error, msg?: NodeMessage): void;
  debug(message: string): void;
  trace(message: string): void;
}

export interface NodeDefinition {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface RequestLike {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

export interface ResponseLike {
  status(code: number): ResponseLike;
  json(body: unknown): void;
  send(body?: unknown): void;
}

export type AdminHandler = (req: RequestLike, res: ResponseLike, next: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, config: NodeDefinition): void;
    getNode(id: string): Node | null;
    registerType(
      type: string,
      constructor: (this: never, definition: never) => void,
      options?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> },
    ): void;
  };
  settings: { userDir?: string; [key: string]: unknown };
  util: {
    cloneMessage<T>(msg: T): T;
  };
  _(key: string, substitutions?: Record<string, unknown>): string;
  httpAdmin?: {
    get(path: string, ...handlers: AdminHandler[]): void;
    post(path: string, ...handlers: AdminHandler[]): void;
  };
  auth?: { needsPermission(permission: string): AdminHandler };
}
