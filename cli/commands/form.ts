import { DispatchError } from '../../src/errors.js';

/** `dispatch form`. */
export async function formCommand(): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'form: being built');
}
