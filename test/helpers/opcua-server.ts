/**
 * A real OPC UA server for tests, built on node-opcua's server (an implementation
 * independent of ours): 127.0.0.1 on a free port, security mode None, anonymous, its PKI
 * in a temporary folder removed by close(). Its variables live in namespace 1 with string
 * node ids (ns=1;s=<name>); the test reads and sets them directly in the address space.
 */
import fs from 'fs';
import { DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, OPCUAServer, SecurityPolicy, UAVariable } from 'node-opcua';
import os from 'os';
import path from 'path';
import { freePort } from './events';

export type OpcuaValue = boolean | number | string;

export interface OpcuaVariable {
  name: string;
  dataType: 'Boolean' | 'Double' | 'Int32' | 'String';
  value: OpcuaValue;
}

/** The variables of the examples' conveyor (examples/opcua-bridge.json), with the values a PLC starts with. */
export const CONVEYOR_VARIABLES: readonly OpcuaVariable[] = [
  { name: 'DriveSpeed', dataType: 'Double', value: 0 },
  { name: 'MotorOn', dataType: 'Boolean', value: false },
  { name: 'Sensor1', dataType: 'Boolean', value: false },
  { name: 'Counter', dataType: 'Int32', value: -1 },
];

/**
 * Every OPC UA client created in this process. node-red-contrib-opcua 0.2.354 does not
 * disconnect its client when its node closes (its close handler returns early): left
 * alone, that client retries the stopped server forever and the test process never
 * ends. close() disconnects them.
 */
const clients = new Set<OPCUAClient>();
const createClient = OPCUAClient.create.bind(OPCUAClient);
OPCUAClient.create = (options) => {
  const client = createClient(options);
  clients.add(client);
  return client;
};

async function disconnectClients(): Promise<void> {
  const open = [...clients];
  clients.clear();
  await Promise.all(
    open.map(async (client) => {
      await client.disconnect().catch(() => undefined);
      await client.clientCertificateManager?.dispose().catch(() => undefined);
    }),
  );
}

/** The variables node-opcua's PKI sets in process.env (see node-opcua-pki's setEnv). */
type OpensslEnvironment = { OPENSSL_CONF: string | undefined; RANDFILE: string | undefined };

function restoreEnvironment(saved: OpensslEnvironment): void {
  for (const name of ['OPENSSL_CONF', 'RANDFILE'] as const) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
}

export class OpcuaTestServer {
  private constructor(
    private readonly server: OPCUAServer,
    private readonly dir: string,
    readonly port: number,
    private readonly types: Map<string, DataType>,
    private readonly managers: OPCUACertificateManager[],
    private readonly environment: OpensslEnvironment,
  ) {}

  /** Starts the server with `variables` under an object "Conveyor" of the Objects folder. */
  static async start(variables: readonly OpcuaVariable[] = CONVEYOR_VARIABLES): Promise<OpcuaTestServer> {
    const environment = { OPENSSL_CONF: process.env.OPENSSL_CONF, RANDFILE: process.env.RANDFILE };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-opcua-'));
    const port = await freePort();
    const managers = ['PKI', 'UserPKI'].map((name) => new OPCUACertificateManager({ name, rootFolder: path.join(dir, name), automaticallyAcceptUnknownCertificate: true }));
    const server = new OPCUAServer({
      port,
      host: '127.0.0.1',
      hostname: '127.0.0.1',
      securityModes: [MessageSecurityMode.None],
      securityPolicies: [SecurityPolicy.None],
      allowAnonymous: true,
      serverCertificateManager: managers[0],
      userCertificateManager: managers[1],
      serverInfo: { applicationUri: 'urn:rv-test:opcua-server', productUri: 'rv-test-opcua-server' },
    });
    try {
      await server.initialize();
      const addressSpace = server.engine.addressSpace!;
      const namespace = addressSpace.getOwnNamespace();
      const conveyor = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Conveyor' });
      for (const variable of variables) {
        namespace.addVariable({
          componentOf: conveyor,
          nodeId: `s=${variable.name}`,
          browseName: variable.name,
          dataType: variable.dataType,
          accessLevel: 'CurrentRead | CurrentWrite',
          userAccessLevel: 'CurrentRead | CurrentWrite',
          minimumSamplingInterval: 50,
          value: { dataType: DataType[variable.dataType], value: variable.value },
        });
      }
      await server.start();
    } catch (error) {
      await server.shutdown().catch(() => undefined);
      await Promise.all(managers.map((manager) => manager.dispose()));
      fs.rmSync(dir, { recursive: true, force: true });
      restoreEnvironment(environment);
      throw error;
    }
    return new OpcuaTestServer(server, dir, port, new Map(variables.map((v) => [v.name, DataType[v.dataType]])), managers, environment);
  }

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}`;
  }

  /** Sessions open now (the bridge's OPC UA clients). */
  get sessionCount(): number {
    return this.server.currentSessionCount;
  }

  get(name: string): OpcuaValue {
    return this.variable(name).readValue().value.value as OpcuaValue;
  }

  set(name: string, value: OpcuaValue): void {
    this.variable(name).setValueFromSource({ dataType: this.types.get(name)!, value });
  }

  /**
   * Disconnects the process's OPC UA clients (see `clients`), then stops the server, removes its
   * PKI and gives back the OpenSSL variables node-opcua set process-wide for it.
   */
  async close(): Promise<void> {
    await disconnectClients();
    await this.server.shutdown(0);
    await Promise.all(this.managers.map((manager) => manager.dispose()));
    fs.rmSync(this.dir, { recursive: true, force: true });
    restoreEnvironment(this.environment);
  }

  private variable(name: string): UAVariable {
    const found = this.server.engine.addressSpace!.findNode(`ns=1;s=${name}`);
    if (!found) throw new Error(`the OPC UA server has no variable ns=1;s=${name}`);
    return found as UAVariable;
  }
}
