import { DispatchError } from '../../src/errors.js';

/** `dispatch bounces`. */
export async function bouncesCommand(_options: { port?: string; host?: string }): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'bounces: being built');
}
