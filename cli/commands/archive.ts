import { DispatchError } from '../../src/errors.js';

export async function archiveBuildCommand(_options: { out: string }): Promise<void> {
  throw new DispatchError('E_INTERNAL', 'dispatch archive build is not built yet');
}
