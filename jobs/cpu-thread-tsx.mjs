// The CPU pool's thread when Dispatch runs from its TypeScript sources (tests, and bin/dispatch.js
// when dist/ is stale). A worker thread does not inherit the tsx its parent registered, and on
// Node 20 a .ts entry file fails to load (ERR_UNKNOWN_FILE_EXTENSION) even with `--import tsx` in
// the worker's execArgv: tsx is registered here, then the thread's code is imported.
// The bundle in dist/ starts dist/cpu-thread.js directly instead.
import { register } from 'tsx/esm/api';

register();
await import('./cpu-thread.ts');
