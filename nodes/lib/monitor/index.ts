import { NodeAPI } from '../red';
import { Monitor } from './monitor';
import { registerMonitorRoutes } from './routes';

const monitors = new WeakMap<object, Monitor>();

/**
 * The signal monitor of one Node-RED runtime: created, with its admin routes, once per
 * admin app (both connection node types call this).
 */
export function registerMonitor(RED: NodeAPI): Monitor | null {
  const key = RED.httpAdmin;
  if (!key) return null;
  let monitor = monitors.get(key);
  if (!monitor) {
    monitor = new Monitor(RED);
    monitors.set(key, monitor);
    registerMonitorRoutes(RED, monitor);
  }
  return monitor;
}

export function monitorOf(RED: NodeAPI): Monitor | undefined {
  return RED.httpAdmin ? monitors.get(RED.httpAdmin) : undefined;
}
