// CPU tasks that only the tests load into the pool's threads (startWorker's cpuTaskModules,
// createCpuPool's taskModules). They run through the same pool, time limit and error path as
// Dispatch's own tasks.
import { CPU_TASKS } from '../../jobs/cpu-tasks.js';
import { DispatchError, type ErrorCode } from '../../src/errors.js';
import type { ParseArticleOptions } from '../../src/ingest/parse-article.js';

/** An article whose parse never ends under these tasks (a stand-in for one that is merely very slow). */
export const NEVER_ENDS = 'NEVER-ENDING-ARTICLE';

function spinFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the thread's event loop is blocked, as by a slow parse
  }
}

export const cpuTasks = {
  /** Busy for `ms` (forever by default), then returns how long it ran. */
  spin:
    async () =>
    (ms = Number.POSITIVE_INFINITY) => {
      const start = performance.now();
      spinFor(ms);
      return performance.now() - start;
    },
  fail: async () => (code: ErrorCode, message: string, transient: boolean) => {
    throw new DispatchError(code, message, { transient });
  },
  throwPlain: async () => () => {
    throw new TypeError('cannot read properties of undefined');
  },
  /** Keeps allocating until the thread's heap limit stops it. */
  exhaustMemory: async () => () => {
    const hoard: number[][] = [];
    for (;;) hoard.push(Array.from({ length: 1e5 }, (_, i) => i));
  },
  /** What arrived: the bytes' length and sum. */
  sumBytes: async () => (bytes: Uint8Array) => ({
    length: bytes.length,
    sum: bytes.reduce((a, b) => a + b, 0),
    isUint8Array: bytes instanceof Uint8Array,
  }),
  /** The real parse, except for an input carrying NEVER_ENDS. */
  parseArticle: async () => {
    const parse = await CPU_TASKS.parseArticle();
    return (input: string | Uint8Array, options: ParseArticleOptions) => {
      if (typeof input === 'string' && input.includes(NEVER_ENDS)) spinFor(Number.POSITIVE_INFINITY);
      return parse(input, options);
    };
  },
  /** A render that fails with an error that is not a DispatchError (a bug). */
  renderWeekIssue: async () => async () => {
    throw new TypeError("Cannot read properties of undefined (reading 'title')");
  },
};
