/**
 * TLS material made at test time with the system's openssl (Debian's `openssl` package):
 * a CA, a server certificate it signs for 127.0.0.1, ::1 and localhost, and a second,
 * unrelated CA for the wrong-CA tests. Everything lives in a temporary directory.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export interface TlsMaterial {
  dir: string;
  /** PEM texts. */
  ca: string;
  otherCa: string;
  cert: string;
  key: string;
  /** The same, as files (tls-config nodes take paths). */
  files: { ca: string; otherCa: string; cert: string; key: string };
  remove(): void;
}

/**
 * The environment for openssl: OPENSSL_CONF and RANDFILE only when they name an existing file
 * (another library in the same test process, node-opcua's PKI, sets them process-wide and may
 * leave them naming a temporary file that is gone, or the text "undefined").
 */
function opensslEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENSSL_CONF', 'RANDFILE']) {
    const value = env[name];
    if (value !== undefined && !fs.existsSync(value)) delete env[name];
  }
  return env;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: opensslEnvironment() });
  } catch (error) {
    const failure = error as Error & { code?: string; stderr?: Buffer };
    if (failure.code === 'ENOENT') throw new Error('openssl not found: install it (Debian: apt-get install openssl) to run the TLS tests', { cause: error });
    throw new Error(`openssl ${args.join(' ')} failed: ${failure.stderr?.toString() ?? failure.message}`, { cause: error });
  }
}

/** A self-signed CA: key and certificate, valid for two days. */
function makeCa(dir: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-sha256',
      '-days',
      '2',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

export function makeTlsMaterial(): TlsMaterial {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rv-tls-'));
  try {
    makeCa(dir, 'ca');
    makeCa(dir, 'other-ca');
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
    fs.writeFileSync(path.join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        '0x' + Date.now().toString(16),
        '-days',
        '2',
        '-sha256',
        '-extfile',
        'server.ext',
        '-out',
        'server.pem',
      ],
      dir,
    );
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const files = { ca: path.join(dir, 'ca.pem'), otherCa: path.join(dir, 'other-ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
  const read = (file: string): string => fs.readFileSync(file, 'utf8');
  return {
    dir,
    ca: read(files.ca),
    otherCa: read(files.otherCa),
    cert: read(files.cert),
    key: read(files.key),
    files,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
