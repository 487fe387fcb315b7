'use strict';
// Preloaded (node --require) into the processes scripts/start.js starts: when start.js goes
// away, however it ended (even SIGKILL), their IPC channel to it closes, and they stop as on
// SIGTERM. So `npm start` never leaves Node-RED or the simulator running on their ports.
const STOP_DEADLINE_MS = 10000;

if (typeof process.send === 'function' && process.channel) {
  // The channel must not keep the process alive by itself.
  process.channel.unref();
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
