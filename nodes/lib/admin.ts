import net from 'net';
import { ConnectionError, OptionError, RealvirtualError, TimeoutError } from '../../engine/errors';
import { ImportResult } from '../../engine/realvirtual/endpoint';
import { RealvirtualClient } from '../../engine/realvirtual/client';
import { Connection } from './connection';
import { readConnectionSettings } from './connection-settings';
import { NodeAPI, RequestLike, ResponseLike } from './red';

/** Every admin request answers within this time. */
export const ADMIN_TIMEOUT_MS = 6000;
const DIAL_TIMEOUT_MS = 4000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface TestAnswer {
  ok: boolean;
  message: string;
  code?: string;
  clients?: number;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new HttpError(504, `${what} took longer than ${ADMIN_TIMEOUT_MS / 1000} s`, 'ERR_TIMEOUT')), ADMIN_TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Admin routes of the edit dialog: Test connection, Import signals and the signal picker's catalog. */
export function registerAdminEndpoints(RED: NodeAPI): void {
  const admin = RED.httpAdmin;
  const auth = RED.auth;
  if (!admin || !auth) return;

  const deployed = (id: unknown): Connection | null => {
    if (typeof id !== 'string' || id === '') return null;
    const node = RED.nodes.getNode(id) as { connection?: Connection } | null;
    return node && node.connection instanceof Connection ? node.connection : null;
  };

  /**
   * The secret to dial with: the one typed in the dialog, else (the editor shows a stored
   * password as "__PWRD__") the deployed connection's credential.
   */
  const dialogSecret = (body: Record<string, unknown>): string => {
    const typed = body.settings && typeof body.settings === 'object' ? (body.settings as Record<string, unknown>).secret : undefined;
    if (typeof typed === 'string' && typed !== '__PWRD__') return typed;
    const node = typeof body.id === 'string' && body.id !== '' ? (RED.nodes.getNode(body.id) as { credentials?: Record<string, string | undefined> } | null) : null;
    return node?.credentials?.secret ?? '';
  };

  /** A short-lived client with the dialog's (possibly undeployed) settings. */
  const dialFromDialog = async (body: Record<string, unknown>): Promise<RealvirtualClient> => {
    const settings = readConnectionSettings(body.settings && typeof body.settings === 'object' ? (body.settings as Record<string, unknown>) : {}, dialogSecret(body));
    const tlsId = typeof (body.settings as Record<string, unknown>).tls === 'string' ? ((body.settings as Record<string, unknown>).tls as string) : '';
    let tls: Record<string, unknown> | undefined;
    if (tlsId) {
      const tlsNode = RED.nodes.getNode(tlsId) as { addTLSOptions?: (options: Record<string, unknown>) => Record<string, unknown> } | null;
      if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') throw new HttpError(400, 'deploy the TLS configuration first: the dialog can only use a deployed tls-config node');
      tls = tlsNode.addTLSOptions({});
    }
    const client = new RealvirtualClient({
      ...settings.client,
      tls,
      autoReconnect: false,
      handshakeTimeoutMs: DIAL_TIMEOUT_MS,
      heartbeatMs: 0,
      keepAliveMs: 0,
      requestTimeoutMs: DIAL_TIMEOUT_MS,
    });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.close();
      // With reconnects off, the engine wraps the failure of the one attempt in ERR_GAVE_UP: report the attempt's own error.
      const cause = (error as { cause?: unknown }).cause;
      throw cause instanceof RealvirtualError ? cause : error;
    }
  };

  const testConnection = async (body: Record<string, unknown>): Promise<TestAnswer> => {
    const settings = readConnectionSettings((body.settings as Record<string, unknown>) ?? {});
    if (settings.mode === 'client') {
      const started = Date.now();
      try {
        const client = await dialFromDialog(body);
        await client.close();
        return { ok: true, message: `connected to ${client.url} in ${Date.now() - started} ms` };
      } catch (error) {
        const failure = error as RealvirtualError;
        if (failure instanceof HttpError) throw failure;
        return { ok: false, message: failure.message, code: failure.code };
      }
    }
    const connection = deployed(body.id);
    if (connection && connection.mode === 'server' && connection.listening) {
      const clients = RED._('realvirtual-connection.status.clients', { count: connection.clientCount });
      return { ok: true, message: `listening on ${connection.url}: ${clients}`, clients: connection.clientCount };
    }
    return probePort(settings.server.host ?? '127.0.0.1', settings.server.port ?? 1234);
  };

  const importSignals = async (body: Record<string, unknown>): Promise<{ answers: ImportResult[]; errors: string[] }> => {
    const settings = readConnectionSettings((body.settings as Record<string, unknown>) ?? {});
    if (settings.mode === 'client') {
      const client = await dialFromDialog(body);
      try {
        return { answers: [await client.requestImport()], errors: [] };
      } finally {
        await client.close();
      }
    }
    const connection = deployed(body.id);
    if (!connection || connection.mode !== 'server') throw new HttpError(409, 'deploy the connection first: in server mode the signals come from the clients connected to it', 'ERR_NOT_CONNECTED');
    const answers: ImportResult[] = [];
    const failures = await connection.requestImport((result) => answers.push(result));
    return { answers, errors: failures.map((failure) => failure.message) };
  };

  const handle =
    (work: (req: RequestLike) => Promise<unknown>) =>
    (req: RequestLike, res: ResponseLike): void => {
      withTimeout(work(req), 'the request').then(
        (answer) => res.json(answer),
        (error: Error & { code?: string; status?: number }) => {
          const status =
            error instanceof HttpError ? error.status
            : error instanceof OptionError ? 400
            : error instanceof TimeoutError ? 504
            : error.code === 'ERR_NOT_CONNECTED' ? 409
            : error instanceof ConnectionError ? 502
            : 500;
          res.status(status).json({ ok: false, message: error.message, code: error.code });
        },
      );
    };

  const bodyOf = (req: RequestLike): Record<string, unknown> => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
  admin.post('/realvirtual/test', auth.needsPermission('realvirtual-connection.write'), handle(async (req) => testConnection(bodyOf(req))));
  admin.post('/realvirtual/import', auth.needsPermission('realvirtual-connection.write'), handle(async (req) => importSignals(bodyOf(req))));
  admin.get(
    '/realvirtual/catalog/:id',
    auth.needsPermission('realvirtual-connection.read'),
    handle(async (req) => {
      const connection = deployed(req.params.id);
      if (!connection) throw new HttpError(404, 'this connection is not deployed yet: only its declared signals are known');
      return { signals: connection.catalog() };
    }),
  );
}

/** Server mode, not deployed: says whether the port can be bound. */
function probePort(host: string, port: number): Promise<TestAnswer> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error: Error & { code?: string }) =>
      resolve({ ok: false, code: error.code, message: `cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}` }),
    );
    probe.listen(port, host, () => probe.close(() => resolve({ ok: true, message: `${host}:${port} is free: deploy to start listening` })));
  });
}
