/**
 * A RealvirtualServer in its own process, for tests that kill a server for real
 * (SIGKILL) or stop it politely (SIGTERM). Started with fork(); arguments: port,
 * then the first value of its own counter. It reports over IPC:
 *   {event: 'listening', port} · {event: 'connect'|'init'|'disconnect', id, name}
 *   {event: 'subscribe', id, names} · {event: 'values', values, written}
 * and obeys {cmd: 'stopCounter'} (then reports its last written value) and {cmd: 'values'}.
 */
import { RealvirtualServer } from '../../engine';

const port = Number(process.argv[2] ?? 0);
let counter = Number(process.argv[3] ?? 0);
const send = (message: object): void => {
  if (process.send && process.connected) process.send(message);
};

const server = new RealvirtualServer({ host: '127.0.0.1', port, cycleMs: 10, heartbeatMs: 0 });
server.on('connect', (peer) => send({ event: 'connect', id: peer.id, name: peer.name }));
server.on('init', (peer) => send({ event: 'init', id: peer.id, name: peer.name }));
server.on('subscribe', (peer, names) => send({ event: 'subscribe', id: peer.id, names }));
server.on('disconnect', (peer) => send({ event: 'disconnect', id: peer.id, name: peer.name }));

// Our own counter, written every 5 ms while the process lives.
let writer: NodeJS.Timeout | null = setInterval(() => server.write('ServerCounter', ++counter), 5);

process.on('message', (message: { cmd?: string }) => {
  if (message.cmd === 'stopCounter' && writer) {
    clearInterval(writer);
    writer = null;
  }
  if (message.cmd === 'stopCounter' || message.cmd === 'values') send({ event: 'values', values: server.values('read'), written: counter });
});

process.on('SIGTERM', () => {
  if (writer) clearInterval(writer);
  void server.close().then(() => process.exit(0));
});

server.listen().then(
  () => send({ event: 'listening', port: server.port }),
  (error: Error) => {
    send({ event: 'error', message: error.message });
    process.exit(1);
  },
);
