import type { AddressInfo, Server } from 'node:net';
import { DispatchError } from '../src/errors.js';

/** Who listens and how its port is chosen, for the one line a user sees when the port cannot be had. */
export interface ListenAs {
  /** Who listens and where the port came from, e.g. `dispatch serve (the port of PUBLIC_URL)`. */
  what: string;
  /** How to choose another port, e.g. `--port or PREVIEW_PORT`. */
  setting: string;
}

/** What a listening server is: its address, and who it is for the error line. */
export interface ListenTarget extends ListenAs {
  host: string;
  port: number;
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A port from a flag or setting: a whole number from 0 to 65535 (0: any free port), or
 * E_PORT_INVALID naming where it came from.
 */
export function parsePort(value: string | number, where: string): number {
  const text = String(value).trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new DispatchError('E_PORT_INVALID', `${where} must be a whole number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

/**
 * The one way Dispatch's servers start listening: resolves with the bound address, or rejects
 * with one DispatchError line (E_PORT_IN_USE naming host:port, who wanted it and the setting to
 * change) instead of an 'error' event that would crash the process or leave it hanging.
 */
export async function listen(server: Server, target: ListenTarget): Promise<AddressInfo> {
  await new Promise<void>((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      fail(listenError(error, target));
    };
    const onListening = () => {
      server.off('error', onError);
      done();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(target.port, target.host);
  });
  return server.address() as AddressInfo;
}

function listenError(error: NodeJS.ErrnoException, target: ListenTarget): Error {
  const where = hostPort(target.host, target.port);
  if (error.code === 'EADDRINUSE') {
    return new DispatchError(
      'E_PORT_IN_USE',
      `${target.what}: ${where} is taken by another program: choose another port with ${target.setting}`,
      { cause: error },
    );
  }
  if (error.code === 'EACCES') {
    return new DispatchError(
      'E_CONFIG',
      `${target.what}: ${where} needs privileges this process does not have (ports below 1024): choose another with ${target.setting}`,
      { cause: error },
    );
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return new DispatchError('E_CONFIG', `${target.what}: cannot listen on ${where}: no such address on this machine`, {
      cause: error,
    });
  }
  return error;
}
