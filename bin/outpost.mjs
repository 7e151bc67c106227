#!/usr/bin/env node
// The `outpost` command: registers tsx so Node runs the TypeScript sources, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/host/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
