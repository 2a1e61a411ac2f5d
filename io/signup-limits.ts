import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../src/config.js';
import { subscriberId } from '../src/links/mail-tags.js';

/** A sign-up post let through, or refused until `retryAfterSeconds` have passed. */
export type LimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * The limits on sign-ups, counted in Redis so that every `dispatch serve` behind one balancer
 * shares them: posts per IP per hour (SIGNUP_IP_PER_HOUR), and confirmation mails per address
 * (one per SIGNUP_MAIL_WINDOW_MINUTES, however often the address is posted).
 */
export interface SignupLimits {
  /** Counts a sign-up post from `ipKey` (see ipLimitKey). */
  takeIp(ipKey: string): Promise<LimitVerdict>;
  /** True when a confirmation mail may go to `email` now; it then counts as sent for the window. */
  takeConfirmMail(email: string): Promise<boolean>;
  /** Undoes a takeConfirmMail whose mail could not be queued, so the next post may try again. */
  giveBackConfirmMail(email: string): Promise<void>;
}

/** Where the counters live: `<REDIS_PREFIX>:signup-limit:ip:<ip>` and `...:mail:<subscriber id>`. */
export function signupLimitPrefix(prefix: string, kind: 'ip' | 'mail'): string {
  return `${prefix}:signup-limit:${kind}`;
}

export function createSignupLimits(
  redis: Redis,
  config: Pick<Config, 'REDIS_PREFIX' | 'SIGNUP_IP_PER_HOUR' | 'SIGNUP_MAIL_WINDOW_MINUTES'>,
): SignupLimits {
  // How long a post waits for Redis when it is away is the connection's business (a command
  // connection fails fast): the limiter adds no rule of its own.
  const perIp = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: signupLimitPrefix(config.REDIS_PREFIX, 'ip'),
    points: config.SIGNUP_IP_PER_HOUR,
    duration: 3600,
  });
  const perAddress = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: signupLimitPrefix(config.REDIS_PREFIX, 'mail'),
    points: 1,
    duration: config.SIGNUP_MAIL_WINDOW_MINUTES * 60,
  });
  // The counter of an address is named by its id: no address is written into another key.
  const mailKey = (email: string) => subscriberId(email);

  /** The limiter refuses with a RateLimiterRes; anything else it throws is Redis failing. */
  const consume = async (limiter: RateLimiterRedis, key: string): Promise<LimitVerdict> => {
    try {
      await limiter.consume(key);
      return { allowed: true };
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
    }
  };

  return {
    takeIp: (ipKey) => consume(perIp, ipKey),
    async takeConfirmMail(email) {
      return (await consume(perAddress, mailKey(email))).allowed;
    },
    async giveBackConfirmMail(email) {
      await perAddress.delete(mailKey(email));
    },
  };
}
