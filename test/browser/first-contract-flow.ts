/**
 * A flow as the first versions of this package saved it: every node type with only the
 * properties of its first contract (git history of nodes/*.html). Everything added since is
 * absent here and must mean its default, in the editor as at run time: realvirtual-connection
 * without allowedOrigins, maxClients and slowPeerTimeout (and whatever later versions add),
 * realvirtual-out without signal, minvr-connection without frameTimeout, autoReconnect and
 * reconnectInterval. The server connection holds its numbers as strings, as the edit dialog
 * saves them; the client one as numbers, as the first defaults were.
 */
export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

const TAB = 'first-contract.tab';

export const FIRST_CONTRACT_FLOW: FlowNode[] = [
  { id: TAB, type: 'tab', label: 'first contract', disabled: false, info: '' },
  {
    id: 'first-contract.rv.server',
    type: 'realvirtual-connection',
    name: 'old server',
    mode: 'server',
    host: '127.0.0.1',
    port: '1234',
    path: '',
    tls: '',
    clientName: 'Node-RED',
    cycleMs: '10',
    onlyChanged: true,
    preserveTransitions: false,
    maxPayload: '16777216',
    autoReconnect: true,
    reconnectInterval: '2',
    maxReconnectAttempts: '-1',
    defaultDirection: 'read',
    inputPatterns: '',
    outputPatterns: '',
    debug: false,
    signals: [{ name: 'Conveyor.Speed', type: 'Float', direction: 'write', value: 0 }],
  },
  {
    id: 'first-contract.rv.client',
    type: 'realvirtual-connection',
    name: 'old client',
    mode: 'client',
    host: '127.0.0.1',
    port: 1234,
    path: '',
    tls: '',
    clientName: 'Node-RED',
    cycleMs: 10,
    onlyChanged: true,
    preserveTransitions: false,
    maxPayload: 16777216,
    autoReconnect: true,
    reconnectInterval: 2,
    maxReconnectAttempts: -1,
    defaultDirection: 'read',
    inputPatterns: '',
    outputPatterns: '',
    debug: false,
    signals: [],
  },
  { id: 'first-contract.rv.in', type: 'realvirtual-in', z: TAB, name: '', connection: 'first-contract.rv.client', signals: '', output: 'changes', x: 160, y: 60, wires: [[]] },
  { id: 'first-contract.rv.out', type: 'realvirtual-out', z: TAB, name: '', connection: 'first-contract.rv.server', x: 420, y: 60, wires: [] },
  { id: 'first-contract.rv.import', type: 'realvirtual-import', z: TAB, name: '', connection: 'first-contract.rv.server', declare: false, x: 180, y: 120, wires: [[]] },
  { id: 'first-contract.rv.config', type: 'realvirtual-config', z: TAB, name: '', connection: 'first-contract.rv.server', x: 180, y: 180, wires: [[]] },
  { id: 'first-contract.minvr', type: 'minvr-connection', name: 'old minvr', transport: 'tcp', mode: 'server', host: '127.0.0.1', port: 9034, path: '/vrevent', maxFrame: 16777216 },
  { id: 'first-contract.minvr.in', type: 'minvr-in', z: TAB, name: '', connection: 'first-contract.minvr', events: '', x: 160, y: 240, wires: [[]] },
  { id: 'first-contract.minvr.out', type: 'minvr-out', z: TAB, name: '', connection: 'first-contract.minvr', dataType: '', x: 420, y: 240, wires: [] },
];
