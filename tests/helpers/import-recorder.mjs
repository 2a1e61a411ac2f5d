// Preloaded with `node --import`: records every bare package a process imports (ESM or
// require) into the file named by IMPORT_LOG, one per line.
import { appendFileSync } from 'node:fs';
import Module from 'node:module';

const log = process.env.IMPORT_LOG;
const note = (specifier) => {
  if (log && /^[@a-z]/.test(specifier) && !specifier.startsWith('node:')) appendFileSync(log, `${specifier}\n`);
};
Module.register(
  `data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      if (${JSON.stringify(log)} && /^[@a-z]/.test(specifier) && !specifier.startsWith('node:')) {
        appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
      }
      return next(specifier, context);
    }`)}`,
);
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  note(request);
  return originalLoad.call(this, request, ...rest);
};
