import { DispatchError } from '../../src/errors.js';
import type { PublishableNetwork } from '../../src/social/network-post.js';

export type PostErrorCode = 'E_POST_AUTH' | 'E_POST_RATE_LIMITED' | 'E_POST_REFUSED' | 'E_POST_UNREACHABLE';

/**
 * A network's answer to a post, sorted as SMTP replies are: credentials refused (the network's
 * posting pauses), slow down (wait `retryAfterMs`, then again), refused for good (the network's
 * own message), or unreachable (retried with backoff).
 */
export class PostError extends DispatchError {
  readonly network: PublishableNetwork;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    network: PublishableNetwork,
    code: PostErrorCode,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(code, `${network}: ${message}`, {
      cause: options.cause,
      transient: code === 'E_POST_RATE_LIMITED' || code === 'E_POST_UNREACHABLE',
    });
    this.network = network;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
