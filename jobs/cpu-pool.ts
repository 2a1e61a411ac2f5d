import { Worker } from 'node:worker_threads';
import { DispatchError, ERROR_CODES, type ErrorCode } from '../src/errors.js';
import { type CpuRunner, type CpuTasks, type RunOptions, type TaskMap, taskFailure } from './cpu-tasks.js';
import type { TaskMessage, ThreadData, ThreadError, ThreadMessage } from './cpu-thread.js';

// From the sources (tests, bin/dispatch.js's tsx fallback) this file is jobs/cpu-pool.ts and the
// thread starts through a tsx bootstrap; in the bundle it is dist/*.js beside dist/cpu-thread.js.
const THREAD_URL = import.meta.url.endsWith('.ts')
  ? new URL('./cpu-thread-tsx.mjs', import.meta.url)
  : new URL('./cpu-thread.js', import.meta.url);

export interface CpuPoolOptions {
  /** Threads at most, each started when first needed. */
  size: number;
  /** The default time limit of a task once it starts in a thread (JOB_TIMEOUT_MS). */
  timeoutMs: number;
  /**
   * V8 old-generation limit of each thread, in MB: a task that needs more fails alone
   * (E_INTERNAL, "ran out of memory") and its thread is replaced. A 5 MB article parses within
   * 192 MB. @defaultValue 512
   */
  maxHeapMb?: number;
  /** Modules whose exported `cpuTasks` add to or replace the built-in tasks in every thread (tests). */
  taskModules?: readonly URL[];
}

export interface CpuPoolStats {
  /** Threads started and alive. */
  threads: number;
  busy: number;
  /** Tasks waiting for a free thread. */
  queued: number;
  /** Each live thread's V8 heap in use after its last task, in MB. */
  heapUsedMb: number[];
}

/** A bounded pool of worker threads for the jobs' CPU work; the jobs' I/O stays on the main thread. */
export interface CpuPool<T extends TaskMap = CpuTasks> extends CpuRunner<T> {
  stats(): CpuPoolStats;
  /**
   * Refuses new tasks, rejects the queued ones, gives the running ones up to `graceMs` to finish,
   * then stops every thread; what was stopped rejects with {@link CpuPoolClosedError}.
   */
  close(graceMs?: number): Promise<void>;
}

/** A task that did not run to its end because the pool closed (the worker is shutting down). */
export class CpuPoolClosedError extends Error {
  constructor(what: string) {
    super(`${what} was interrupted: the worker is shutting down`);
    this.name = 'CpuPoolClosedError';
  }
}

interface Pending {
  id: number;
  task: string;
  args: unknown[];
  options: RunOptions;
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Resolves once the task has resolved or rejected. */
  settled: Promise<unknown>;
}

interface Thread {
  worker: Worker;
  current?: Pending;
  timer?: NodeJS.Timeout;
  /** The thread's last 'error' event, read when it exits. */
  crash?: Error & { code?: string };
  heapUsed: number;
}

/** Rebuilds a thread's error: a DispatchError keeps its code, message and transient flag. */
function fromThread(error: ThreadError, what: string): DispatchError {
  const rebuilt =
    error.code && error.code in ERROR_CODES
      ? new DispatchError(error.code as ErrorCode, error.message, { transient: error.transient })
      : Object.assign(new Error(error.message), { name: error.name });
  if (error.stack) rebuilt.stack = error.stack;
  return taskFailure(rebuilt, what);
}

/**
 * Starts a pool of up to `size` worker threads. A task runs in a free thread (or waits, in order,
 * for one); past its time limit the thread is terminated, the task fails with E_JOB_TIMEOUT and a
 * fresh thread replaces it. A thread that dies (out of memory) fails only its own task.
 */
export function createCpuPool<T extends TaskMap = CpuTasks>(options: CpuPoolOptions): CpuPool<T> {
  const size = Math.max(1, Math.floor(options.size));
  const maxHeapMb = options.maxHeapMb ?? 512;
  const data: ThreadData = { taskModules: (options.taskModules ?? []).map((u) => u.href) };
  const threads = new Set<Thread>();
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  const finish = (thread: Thread) => {
    clearTimeout(thread.timer);
    thread.timer = undefined;
    const task = thread.current;
    thread.current = undefined;
    // An idle thread does not keep the process alive; a busy one does.
    thread.worker.unref();
    return task;
  };

  const retire = (thread: Thread) => {
    threads.delete(thread);
    void thread.worker.terminate();
  };

  const onMessage = (thread: Thread, message: ThreadMessage) => {
    const task = thread.current;
    if (!task || message.id !== task.id) return;
    if (message.type === 'started') {
      const limit = task.options.timeoutMs ?? options.timeoutMs;
      thread.timer = setTimeout(() => {
        // Synchronous code cannot be interrupted from outside but by ending its thread.
        finish(thread);
        retire(thread);
        task.reject(new DispatchError('E_JOB_TIMEOUT', `${task.options.what} ran longer than ${limit} ms`));
        pump();
      }, limit);
      return;
    }
    thread.heapUsed = message.heapUsed;
    finish(thread);
    if (message.type === 'done') task.resolve(message.value);
    else task.reject(fromThread(message.error, task.options.what));
    pump();
  };

  const onExit = (thread: Thread, exitCode: number) => {
    threads.delete(thread);
    const task = finish(thread);
    if (task && !closed) {
      const cause = thread.crash;
      const why =
        cause?.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `ran out of memory in its worker thread (limit ${maxHeapMb} MB)`
          : `crashed its worker thread (${cause ? `${cause.name}: ${cause.message}` : `exit code ${exitCode}`})`;
      task.reject(new DispatchError('E_INTERNAL', `${task.options.what} ${why}`, { cause }));
    }
    pump();
  };

  const start = (): Thread => {
    const worker = new Worker(THREAD_URL, {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    });
    const thread: Thread = { worker, heapUsed: 0 };
    worker.on('message', (message: ThreadMessage) => onMessage(thread, message));
    worker.on('error', (error) => {
      thread.crash = error;
    });
    worker.on('exit', (code) => onExit(thread, code));
    threads.add(thread);
    return thread;
  };

  const pump = () => {
    while (!closed && queue.length > 0) {
      let thread: Thread | undefined;
      for (const t of threads) if (!t.current) thread = t;
      if (!thread) {
        if (threads.size >= size) return;
        thread = start();
      }
      const task = queue.shift() as Pending;
      thread.current = task;
      thread.worker.ref();
      const message: TaskMessage = { id: task.id, task: task.task, args: task.args };
      try {
        thread.worker.postMessage(message, task.options.transfer ?? []);
      } catch (error) {
        // DataCloneError: arguments that cannot cross the thread boundary are a bug in the caller.
        finish(thread);
        task.reject(taskFailure(error, `${task.options.what} (sending its data to a worker thread)`));
      }
    }
  };

  return {
    run(task, args, runOptions) {
      if (closed) return Promise.reject(new CpuPoolClosedError(runOptions.what));
      let pending: Omit<Pending, 'settled'> | undefined;
      const result = new Promise((resolve, reject) => {
        pending = { id: nextId++, task, args, options: runOptions, resolve, reject };
      });
      const ignore = () => {};
      queue.push({ ...(pending as Omit<Pending, 'settled'>), settled: result.then(ignore, ignore) });
      pump();
      return result as never;
    },
    stats() {
      const live = [...threads];
      return {
        threads: live.length,
        busy: live.filter((t) => t.current).length,
        queued: queue.length,
        heapUsedMb: live.map((t) => Math.round(t.heapUsed / 1e5) / 10),
      };
    },
    async close(graceMs = 0) {
      closed = true;
      for (const task of queue.splice(0)) task.reject(new CpuPoolClosedError(task.options.what));
      const running = [...threads].flatMap((t) => (t.current ? [t.current.settled] : []));
      if (running.length > 0 && graceMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(running),
          new Promise((done) => {
            timer = setTimeout(done, graceMs);
          }),
        ]);
        clearTimeout(timer);
      }
      const stopping = [...threads].map((thread) => {
        const task = finish(thread);
        task?.reject(new CpuPoolClosedError(task.options.what));
        return thread.worker.terminate();
      });
      threads.clear();
      await Promise.all(stopping);
    },
  };
}
