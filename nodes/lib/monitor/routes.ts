import { RealvirtualError } from '../../../engine';
import { NodeAPI, RequestLike, ResponseLike } from '../red';
import { DirectionFilter, MAX_NAMES, MAX_SEARCH, MAX_WINDOW, Monitor, MonitorError, ViewQuery } from './monitor';
import { allows, READ_PERMISSION, WRITE_PERMISSION } from './permissions';

interface UserRequest extends RequestLike {
  user?: { username?: string; permissions?: unknown };
  /** The scope of the request's token (what Node-RED's own permission checks use). */
  authInfo?: { scope?: unknown };
}

const DIRECTIONS: readonly DirectionFilter[] = ['all', 'read', 'write'];
/** The longest "changed recently" span: one day. */
const MAX_RECENT_MS = 86400000;

function invalid(message: string): MonitorError {
  return new MonitorError('ERR_INVALID_FIELD', message, 400);
}

function text(body: Record<string, unknown>, key: string, max: number): string {
  const value = body[key] ?? '';
  if (typeof value !== 'string') throw invalid(`${key} must be a string`);
  if (value.length > max) throw invalid(`${key} is longer than ${max} characters`);
  return value;
}

function integer(body: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const value = body[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(`${key} must be a whole number from ${min} to ${max}`);
  return value;
}

function readNames(value: unknown): ReadonlySet<string> | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length > MAX_NAMES || !value.every((name) => typeof name === 'string')) throw invalid(`names must be a list of at most ${MAX_NAMES} signal names`);
  return new Set(value as string[]);
}

/** A view query from the editor, checked field by field. */
export function readQuery(body: Record<string, unknown>): ViewQuery {
  const direction = body.direction ?? 'all';
  if (!DIRECTIONS.includes(direction as DirectionFilter)) throw invalid('direction must be "all", "read" or "write"');
  return {
    connection: text(body, 'connection', 100),
    search: text(body, 'search', MAX_SEARCH),
    direction: direction as DirectionFilter,
    recentMs: integer(body, 'recentMs', 0, MAX_RECENT_MS, 0),
    offset: integer(body, 'offset', 0, 10_000_000, 0),
    limit: integer(body, 'limit', 1, MAX_WINDOW, 100),
    names: readNames(body.names),
  };
}

/** The editor user's name as the log and the monitor show it. */
export function userName(req: UserRequest): string {
  const name = req.user?.username;
  return typeof name === 'string' && name !== '' ? name : 'anonymous';
}

/** With adminAuth off every request may do everything (there is no req.user). */
function mayWrite(req: UserRequest): boolean {
  return req.user === undefined || allows(req.authInfo?.scope ?? req.user.permissions, WRITE_PERMISSION);
}

/**
 * Setting values needs realvirtual.write. The routes let Node-RED authenticate (and check
 * realvirtual.read) and refuse a user who may only look with 403 and a coded reason.
 */
function requireWrite(req: UserRequest): void {
  if (!mayWrite(req)) throw new MonitorError('ERR_FORBIDDEN', `setting values needs the ${WRITE_PERMISSION} permission`, 403);
}

/**
 * The monitor's admin routes: watch (start, change or renew a view), unwatch, write and
 * release. Viewing needs realvirtual.read, setting a value realvirtual.write.
 */
export function registerMonitorRoutes(RED: NodeAPI, monitor: Monitor): void {
  const admin = RED.httpAdmin;
  const auth = RED.auth;
  if (!admin || !auth) return;
  const bodyOf = (req: RequestLike): Record<string, unknown> => (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {});
  const handle =
    (work: (req: UserRequest, body: Record<string, unknown>) => unknown) =>
    (req: RequestLike, res: ResponseLike): void => {
      try {
        res.json(work(req as UserRequest, bodyOf(req)));
      } catch (error) {
        const failure = error as Error & { code?: string; status?: number };
        const status = error instanceof MonitorError ? error.status : error instanceof RealvirtualError ? 400 : 500;
        res.status(status).json({ ok: false, message: failure.message, code: failure.code });
      }
    };
  admin.post(
    '/realvirtual/monitor/watch',
    auth.needsPermission(READ_PERMISSION),
    handle((req, body) => {
      const id = typeof body.watch === 'string' ? body.watch : undefined;
      // A watch that has ended (lease over, Node-RED restarted) is not renewed: the editor then starts a new one.
      if (body.renew === true) return { ok: id !== undefined && monitor.renew(id, userName(req)) };
      return monitor.watch(id, userName(req), readQuery(body), mayWrite(req));
    }),
  );
  admin.post(
    '/realvirtual/monitor/unwatch',
    auth.needsPermission(READ_PERMISSION),
    handle((req, body) => {
      if (typeof body.watch === 'string') monitor.unwatch(body.watch, userName(req));
      return { ok: true };
    }),
  );
  admin.post(
    '/realvirtual/monitor/write',
    auth.needsPermission(READ_PERMISSION),
    handle((req, body) => {
      requireWrite(req);
      const connection = text(body, 'connection', 100);
      const name = text(body, 'name', 10000);
      if (!('value' in body)) throw invalid('value is missing');
      if (body.hold !== undefined && typeof body.hold !== 'boolean') throw invalid('hold must be true or false');
      return { ok: true, ...monitor.write(connection, name, body.value, userName(req), body.hold as boolean | undefined) };
    }),
  );
  admin.post(
    '/realvirtual/monitor/release',
    auth.needsPermission(READ_PERMISSION),
    handle((req, body) => {
      requireWrite(req);
      return { ok: true, released: monitor.release(text(body, 'connection', 100), text(body, 'name', 10000), userName(req)) };
    }),
  );
}
