import net from 'net';
import { ClientOptions, ConnectionError, ImportResult, internals, normalizePath, OptionError, RealvirtualClient, RealvirtualError, TimeoutError } from '../../engine';
import { Connection } from './connection';
import { CONNECTION_DEFAULTS, ConnectionSettings, readConnectionSettings } from './connection-settings';
import { NodeAPI, RequestLike, ResponseLike } from './red';

const { hostPort } = internals;

/** Every admin request answers within this time (with the default dial timeout). */
export const ADMIN_TIMEOUT_MS = 6000;
/** How long Test connection and Import signals wait for the handshake and for the import answer. */
export const DIAL_TIMEOUT_MS = 4000;
/** The Node-RED setting (settings.js, in seconds) that replaces DIAL_TIMEOUT_MS. */
export const DIAL_TIMEOUT_SETTING = 'realvirtualConnectionDialTimeout';

/** The dial timeout in force: the setting when it is a positive number of seconds, else the default. */
export function dialTimeoutMs(settings: Record<string, unknown>): number {
  const seconds = settings[DIAL_TIMEOUT_SETTING];
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DIAL_TIMEOUT_MS;
}

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
  /** Set when the dialog asked for the stored secret but names another target, so none was sent. */
  note?: string;
}

/** What the editor shows in a password field whose credential is stored. */
const STORED_PASSWORD = '__PWRD__';

const SECRET_WITHHELD = 'the stored secret is only sent to the deployed target: none was sent (type the secret into the dialog to use it here)';

/** Where a client dials, normalised: the stored secret goes only where the deployed connection goes. */
function targetKey(mode: string, options: ClientOptions, tlsId: string): string {
  return JSON.stringify([mode, (options.host ?? '').trim().toLowerCase(), Number(options.port), normalizePath(options.path), tlsId]);
}

/** The dialog's client settings with the secret to send, and whether a stored secret was withheld. */
interface DialPlan {
  settings: ConnectionSettings;
  tlsId: string;
  secretWithheld: boolean;
}

/** An answer's text, with the reason no secret was sent when one was withheld. */
function noted(text: string, plan: DialPlan): string {
  return plan.secretWithheld ? `${text} (${SECRET_WITHHELD})` : text;
}

function httpStatusOf(error: Error & { code?: string }): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof OptionError) return 400;
  if (error instanceof TimeoutError) return 504;
  if (error.code === 'ERR_NOT_CONNECTED') return 409;
  if (error instanceof ConnectionError) return 502;
  return 500;
}

function withTimeout<T>(promise: Promise<T>, what: string, limitMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new HttpError(504, `${what} took longer than ${limitMs / 1000} s`, 'ERR_TIMEOUT')), limitMs);
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
  // Read per request: the settings are complete only once the runtime has started.
  const dialMs = (): number => dialTimeoutMs(RED.settings);

  const deployed = (id: unknown): Connection | null => {
    if (typeof id !== 'string' || id === '') return null;
    const node = RED.nodes.getNode(id) as { connection?: Connection } | null;
    return node && node.connection instanceof Connection ? node.connection : null;
  };

  const settingsOf = (body: Record<string, unknown>): Record<string, unknown> => (body.settings && typeof body.settings === 'object' ? (body.settings as Record<string, unknown>) : {});

  /**
   * What the dialog dials, and with which secret: the one typed in the dialog; else (the
   * editor shows a stored password as "__PWRD__") the deployed connection's, but only when
   * the dialog dials exactly the deployed target (mode, host, port, path, TLS configuration):
   * a stored secret is never sent anywhere else.
   */
  const planDial = (body: Record<string, unknown>): DialPlan => {
    const tlsId = typeof settingsOf(body).tls === 'string' ? (settingsOf(body).tls as string) : '';
    const typed = settingsOf(body).secret;
    if (typeof typed === 'string' && typed !== STORED_PASSWORD) return { settings: readConnectionSettings(settingsOf(body), typed), tlsId, secretWithheld: false };
    const target = readConnectionSettings(settingsOf(body));
    const connection = deployed(body.id);
    const stored = connection?.settings?.client.secret ?? '';
    if (!connection || !connection.settings || stored === '') return { settings: target, tlsId, secretWithheld: false };
    const same = targetKey(connection.settings.mode, connection.settings.client, connection.tlsConfigId) === targetKey(target.mode, target.client, tlsId);
    return same ? { settings: readConnectionSettings(settingsOf(body), stored), tlsId, secretWithheld: false } : { settings: target, tlsId, secretWithheld: true };
  };

  /** A short-lived client with the dialog's (possibly undeployed) settings. */
  const dial = async (plan: DialPlan): Promise<RealvirtualClient> => {
    let tls: Record<string, unknown> | undefined;
    if (plan.tlsId) {
      const tlsNode = RED.nodes.getNode(plan.tlsId) as { addTLSOptions?: (options: Record<string, unknown>) => Record<string, unknown> } | null;
      if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') throw new HttpError(400, 'deploy the TLS configuration first: the dialog can only use a deployed tls-config node');
      tls = tlsNode.addTLSOptions({});
    }
    const client = new RealvirtualClient({
      ...plan.settings.client,
      tls,
      autoReconnect: false,
      handshakeTimeoutMs: dialMs(),
      heartbeatMs: 0,
      keepAliveMs: 0,
      requestTimeoutMs: dialMs(),
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
      const plan = planDial(body);
      const note = plan.secretWithheld ? { note: SECRET_WITHHELD } : {};
      const started = Date.now();
      try {
        const client = await dial(plan);
        await client.close();
        return { ok: true, message: noted(`connected to ${client.url} in ${Date.now() - started} ms`, plan), ...note };
      } catch (error) {
        const failure = error as RealvirtualError;
        if (failure instanceof HttpError) throw failure;
        return { ok: false, message: noted(failure.message, plan), code: failure.code, ...note };
      }
    }
    const connection = deployed(body.id);
    if (connection && connection.mode === 'server' && connection.listening) {
      const clients = RED._('realvirtual-connection.status.clients', { count: connection.clientCount });
      return { ok: true, message: `listening on ${connection.url}: ${clients}`, clients: connection.clientCount };
    }
    return probePort(settings.server.host ?? CONNECTION_DEFAULTS.host, settings.server.port ?? CONNECTION_DEFAULTS.port);
  };

  const importSignals = async (body: Record<string, unknown>): Promise<{ answers: ImportResult[]; errors: string[]; note?: string }> => {
    const settings = readConnectionSettings((body.settings as Record<string, unknown>) ?? {});
    if (settings.mode === 'client') {
      const plan = planDial(body);
      let client: RealvirtualClient;
      try {
        client = await dial(plan);
      } catch (error) {
        const failure = error as Error & { code?: string };
        throw plan.secretWithheld ? new HttpError(httpStatusOf(failure), noted(failure.message, plan), failure.code) : failure;
      }
      try {
        const answers = [await client.requestImport()];
        return plan.secretWithheld ? { answers, errors: [], note: SECRET_WITHHELD } : { answers, errors: [] };
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
      withTimeout(work(req), 'the request', ADMIN_TIMEOUT_MS - DIAL_TIMEOUT_MS + dialMs()).then(
        (answer) => res.json(answer),
        (error: Error & { code?: string }) => res.status(httpStatusOf(error)).json({ ok: false, message: error.message, code: error.code }),
      );
    };

  const bodyOf = (req: RequestLike): Record<string, unknown> => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
  admin.post(
    '/realvirtual/test',
    auth.needsPermission('realvirtual-connection.write'),
    handle(async (req) => testConnection(bodyOf(req))),
  );
  admin.post(
    '/realvirtual/import',
    auth.needsPermission('realvirtual-connection.write'),
    handle(async (req) => importSignals(bodyOf(req))),
  );
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
      resolve({ ok: false, code: error.code, message: `cannot listen on ${hostPort(host, port)}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}` }),
    );
    probe.listen(port, host, () => probe.close(() => resolve({ ok: true, message: `${hostPort(host, port)} is free: deploy to start listening` })));
  });
}
