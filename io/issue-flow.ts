import type { Redis } from 'ioredis';

/**
 * Where one week's issue stands in the weekly loop, as Redis keeps it (`<prefix>:issue:<week>:flow`,
 * a hash): what the schedule did, what editors did, and who started the list send. The send itself
 * is the send ledger's (io/send-ledger.ts); the build is the store's.
 */
export interface IssueFlowRecord {
  week: string;
  /** The weekly build that started the loop (proof, then approval or the timed send). */
  builtAt: string | null;
  /** When the loop's proofs and timed send were queued: a later firing of the schedule does neither again. */
  loopedAt: string | null;
  /** When a proof was last queued to the editors. */
  proofAt: string | null;
  /** When the list send starts by itself (NEWSLETTER_SEND_AFTER after `builtAt`); stored once. */
  sendAt: string | null;
  heldAt: string | null;
  approvedAt: string | null;
  /** When the list send was claimed, and by whom: no hold applies from then on. */
  claimedAt: string | null;
  claimedBy: 'schedule' | 'approve' | null;
  /** The loop's latest failure for this week, "E_CODE: message", and when. Cleared by a later success. */
  error: string | null;
  errorAt: string | null;
  /** When a weekly build last found no articles in the week. */
  emptyAt: string | null;
}

/** What a claim of the week's send found: it is the caller's now, someone had it already, or it is held. */
export type ClaimOutcome = 'claimed' | 'claimed-before' | 'held';

export interface IssueFlow {
  get(week: string): Promise<IssueFlowRecord>;
  /** Weeks the loop has a record of, newest first. */
  weeks(): Promise<string[]>;
  /**
   * The weekly build's step, the first time per week: records `builtAt` and, given `sendAt`, the
   * time of the timed send, each once (a later call or a restart never moves them), and clears an
   * earlier failure or empty week. `first` is false once the loop was done (`markLooped`).
   */
  begin(week: string, builtAt: Date, sendAt: Date | null): Promise<{ first: boolean; sendAt: string | null }>;
  /** The loop's proofs and timed send are queued: later firings of the schedule leave the week alone. */
  markLooped(week: string, at: Date): Promise<void>;
  markProof(week: string, at: Date): Promise<void>;
  markEmpty(week: string, at: Date): Promise<void>;
  /** Records a failure of the loop ("E_CODE: message"). */
  markError(week: string, reason: string, at: Date): Promise<void>;
  /** Whether the editors were told of this cause for the week (see `markNoticed`): they hear of each once. */
  noticed(week: string, cause: string): Promise<boolean>;
  markNoticed(week: string, cause: string): Promise<void>;
  /**
   * Claims the week's list send, atomically against `hold`: 'held' (nothing changes) while an
   * editor holds it; 'claimed-before' once it was claimed or its send exists (started by
   * `dispatch send`, say); else 'claimed', with `approvedAt` when `by` is 'approve'.
   */
  claim(week: string, by: 'schedule' | 'approve', at: Date): Promise<ClaimOutcome>;
  /**
   * A claimed send that could not start, for a reason that will not pass: the failure is recorded
   * and the claim dropped, but only the caller's own (`owner`: who claimed, and for an approval
   * the time of its claim), and not once the send exists (then it has started, and stays claimed).
   * A caller whose claim came back 'claimed-before' must not drop another's claim: a hold would
   * then report success while that other caller goes on to send.
   */
  unclaim(
    week: string,
    reason: string,
    at: Date,
    owner: { by: 'schedule' | 'approve'; claimedAt?: Date },
  ): Promise<void>;
  /**
   * Holds the week, atomically against `claim`: false (nothing changes) once the send was claimed
   * or exists. A hold that returns true is never followed by a send until `release`.
   */
  hold(week: string, at: Date): Promise<boolean>;
  /** Clears a hold; false when it was not held. */
  release(week: string): Promise<boolean>;
}

const FIELDS = [
  'builtAt',
  'loopedAt',
  'proofAt',
  'sendAt',
  'heldAt',
  'approvedAt',
  'claimedAt',
  'claimedBy',
  'error',
  'errorAt',
  'emptyAt',
] as const;

/** KEYS: the flow, the set of weeks. ARGV: week, builtAt, sendAt or "". Returns {first, sendAt or ""}. */
const BEGIN_SCRIPT = `
redis.call('SADD', KEYS[2], ARGV[1])
-- A good build ends what an earlier failure or empty build of the week said (while a send is claimed, its error stays).
if not redis.call('HGET', KEYS[1], 'claimedAt') then redis.call('HDEL', KEYS[1], 'error', 'errorAt') end
redis.call('HDEL', KEYS[1], 'emptyAt')
if redis.call('HEXISTS', KEYS[1], 'loopedAt') == 1 then
  return {0, redis.call('HGET', KEYS[1], 'sendAt') or ''}
end
redis.call('HSETNX', KEYS[1], 'builtAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[1], 'sendAt', ARGV[3]) end
return {1, redis.call('HGET', KEYS[1], 'sendAt') or ''}
`;

/**
 * KEYS: the flow, the send's hash in the ledger. ARGV: who claims, the time. The hold and the
 * claim are one script each on the same hash, so one of them always sees the other.
 */
const CLAIM_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'heldAt') == 1 then return 'held' end
if redis.call('HEXISTS', KEYS[1], 'claimedAt') == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 'claimed-before'
end
redis.call('HSET', KEYS[1], 'claimedAt', ARGV[2], 'claimedBy', ARGV[1])
if ARGV[1] == 'approve' then redis.call('HSET', KEYS[1], 'approvedAt', ARGV[2]) end
redis.call('HDEL', KEYS[1], 'error', 'errorAt')
return 'claimed'
`;

/** KEYS: the flow, the send's hash, the set of weeks. ARGV: week, the time. 1 if held now. */
const HOLD_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'claimedAt') == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSETNX', KEYS[1], 'heldAt', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: the flow, the send's hash. ARGV: the reason, the time, who claimed, when (or ""). */
const UNCLAIM_SCRIPT = `
local mine = redis.call('HGET', KEYS[1], 'claimedBy') == ARGV[3]
  and (ARGV[4] == '' or redis.call('HGET', KEYS[1], 'claimedAt') == ARGV[4])
if mine and redis.call('EXISTS', KEYS[2]) == 0 then redis.call('HDEL', KEYS[1], 'claimedAt', 'claimedBy') end
redis.call('HSET', KEYS[1], 'error', ARGV[1], 'errorAt', ARGV[2])
return 1
`;

/** The loop's record of each week, in Redis; every worker, command and the preview share it. */
export function createIssueFlow(redis: Redis, prefix: string): IssueFlow {
  const flowKey = (week: string) => `${prefix}:issue:${week}:flow`;
  const sendKey = (week: string) => `${prefix}:send:${week}`;
  const weeksKey = `${prefix}:issue-flows`;
  const set = async (week: string, fields: Record<string, string>) => {
    await redis.multi().hset(flowKey(week), fields).sadd(weeksKey, week).exec();
  };
  return {
    async get(week) {
      const values = await redis.hmget(flowKey(week), ...FIELDS);
      const record = { week } as IssueFlowRecord;
      FIELDS.forEach((field, i) => {
        (record as unknown as Record<string, string | null>)[field] = values[i] || null;
      });
      return record;
    },
    async weeks() {
      return (await redis.smembers(weeksKey)).sort().reverse();
    },
    async begin(week, builtAt, sendAt) {
      const [first, storedSendAt] = (await redis.eval(
        BEGIN_SCRIPT,
        2,
        flowKey(week),
        weeksKey,
        week,
        builtAt.toISOString(),
        sendAt ? sendAt.toISOString() : '',
      )) as [number, string];
      return { first: first === 1, sendAt: storedSendAt || null };
    },
    async markLooped(week, at) {
      await set(week, { loopedAt: at.toISOString() });
    },
    async markProof(week, at) {
      await set(week, { proofAt: at.toISOString() });
    },
    async markEmpty(week, at) {
      await set(week, { emptyAt: at.toISOString() });
    },
    async markError(week, reason, at) {
      await set(week, { error: reason, errorAt: at.toISOString() });
    },
    async noticed(week, cause) {
      return (await redis.hexists(flowKey(week), `notice:${cause}`)) === 1;
    },
    async markNoticed(week, cause) {
      await redis.hset(flowKey(week), `notice:${cause}`, '1');
    },
    async claim(week, by, at) {
      return (await redis.eval(CLAIM_SCRIPT, 2, flowKey(week), sendKey(week), by, at.toISOString())) as ClaimOutcome;
    },
    async unclaim(week, reason, at, owner) {
      await redis.eval(
        UNCLAIM_SCRIPT,
        2,
        flowKey(week),
        sendKey(week),
        reason,
        at.toISOString(),
        owner.by,
        owner.claimedAt?.toISOString() ?? '',
      );
    },
    async hold(week, at) {
      return (await redis.eval(HOLD_SCRIPT, 3, flowKey(week), sendKey(week), weeksKey, week, at.toISOString())) === 1;
    },
    async release(week) {
      return (await redis.hdel(flowKey(week), 'heldAt')) === 1;
    },
  };
}
