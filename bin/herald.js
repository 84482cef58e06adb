#!/usr/bin/env node
// The `herald` executable (package.json "bin"). From a checkout it runs the TypeScript source through tsx (a
// dependency), so `npx herald …` works right after `npm ci`, with no build and never a stale dist/. Where there
// is no source (an image that ships dist/ only), it runs the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
} else {
  cli = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
await cli.main();
