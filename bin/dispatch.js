#!/usr/bin/env node
// Entry point of the `dispatch` command: runs the TypeScript CLI through tsx,
// so there is no build step between editing a file and running it.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
