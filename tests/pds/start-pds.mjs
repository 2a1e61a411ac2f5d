// A local Bluesky PDS for tests: the reference server (@atproto/pds) with an in-memory PLC
// directory (@did-plc/server), as @atproto/dev-env's TestPds configures it. Creates one account,
// prints one JSON line ({ url, handle, password, did }) and runs until SIGTERM or SIGINT.
// Installed apart from the project (npm run setup:pds): some 270 MB, and better-sqlite3 compiles.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secp256k1Keypair } from '@atproto/crypto';
import pds from '@atproto/pds';
import plc from '@did-plc/server';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const plcPort = await freePort();
const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort });
await plcServer.start();

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'dispatch-pds-'));
const rotation = await Secp256k1Keypair.create({ exportable: true });
const env = {
  devMode: true,
  port,
  hostname: 'localhost',
  dataDirectory: dir,
  blobstoreDiskLocation: join(dir, 'blobs'),
  didPlcUrl: `http://localhost:${plcPort}`,
  recoveryDidKey: (await Secp256k1Keypair.create()).did(),
  plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotation.export()).toString('hex'),
  adminPassword: 'admin-pass',
  jwtSecret: 'jwt-secret',
  serviceHandleDomains: ['.test'],
  inviteRequired: false,
  bskyAppViewUrl: 'https://appview.invalid',
  bskyAppViewDid: 'did:example:invalid',
  modServiceUrl: 'https://moderator.invalid',
  modServiceDid: 'did:example:invalid',
};
const server = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env));
await server.start();

const url = `http://localhost:${port}`;
const handle = 'newsroom.test';
const password = 'newsroom-account-password';
const created = await fetch(`${url}/xrpc/com.atproto.server.createAccount`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ handle, email: 'desk@example.com', password }),
  signal: AbortSignal.timeout(10_000),
});
if (!created.ok) throw new Error(`createAccount: ${created.status} ${await created.text()}`);
const { did, accessJwt } = await created.json();
// Dispatch logs in with an app password, as the README tells users to.
const appPassword = await fetch(`${url}/xrpc/com.atproto.server.createAppPassword`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${accessJwt}` },
  body: JSON.stringify({ name: 'dispatch' }),
  signal: AbortSignal.timeout(10_000),
});
if (!appPassword.ok) throw new Error(`createAppPassword: ${appPassword.status} ${await appPassword.text()}`);
const { password: app } = await appPassword.json();

process.stdout.write(`${JSON.stringify({ url, handle, did, password, appPassword: app })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.destroy().catch(() => {});
  await plcServer.destroy().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test that started this process may die without stopping it.
process.stdin.on('end', stop);
process.stdin.resume();
