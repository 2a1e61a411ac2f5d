// The code of each CPU pool thread: runs one task at a time, as the pool asks (see cpu-pool.ts).
// Nothing here touches Redis, the network or the clock: the job around the task does its I/O on
// the main thread.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { isDispatchError } from '../src/errors.js';
import { CPU_TASKS, type TaskMap } from './cpu-tasks.js';

/** main -> thread */
export interface TaskMessage {
  id: number;
  task: string;
  args: unknown[];
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface ThreadError {
  name: string;
  message: string;
  stack?: string;
  /** Set for a DispatchError. */
  code?: string;
  transient?: boolean;
}

/** thread -> main: "started" once the task's code is loaded and the work begins. */
export type ThreadMessage =
  | { id: number; type: 'started' }
  | { id: number; type: 'done'; value: unknown; heapUsed: number }
  | { id: number; type: 'failed'; error: ThreadError; heapUsed: number };

export interface ThreadData {
  /** Modules whose `cpuTasks` add to or replace Dispatch's own tasks (tests). */
  taskModules: string[];
}

function toThreadError(error: unknown): ThreadError {
  if (isDispatchError(error)) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: error.code,
      transient: error.transient,
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

const port = parentPort;
if (!port) throw new Error('jobs/cpu-thread runs as a worker thread of the CPU pool');

const tasks: TaskMap = { ...CPU_TASKS };
for (const href of (workerData as ThreadData | null)?.taskModules ?? []) {
  Object.assign(tasks, ((await import(href)) as { cpuTasks: TaskMap }).cpuTasks);
}
const loaded = new Map<string, (...args: unknown[]) => unknown>();

port.on('message', async ({ id, task, args }: TaskMessage) => {
  const send = (message: ThreadMessage) => port.postMessage(message);
  try {
    let fn = loaded.get(task);
    if (!fn) {
      const load = tasks[task];
      if (!load) throw new Error(`no CPU task named "${task}"`);
      fn = (await load()) as (...args: unknown[]) => unknown;
      loaded.set(task, fn);
    }
    // The time limit starts here: loading a task's modules (MJML: about a second) is not its work.
    send({ id, type: 'started' });
    const value = await fn(...args);
    send({ id, type: 'done', value, heapUsed: getHeapStatistics().used_heap_size });
  } catch (error) {
    // Also a result that cannot be cloned back (DataCloneError): reported, not a crash.
    send({ id, type: 'failed', error: toThreadError(error), heapUsed: getHeapStatistics().used_heap_size });
  }
});
