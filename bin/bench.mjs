#!/usr/bin/env node
// `npm run bench -- <name> [flags]`: runs test/bench/<name>.bench.ts (TypeScript, through tsx) and
// lists the available benchmarks when no name is given. Benchmarks are never part of `npm test`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'bench');
const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  process.stdout.write(`Usage: npm run bench -- <name> [flags]\nAvailable: ${available.join(', ')}\n`);
  process.exit(0);
}
if (!available.includes(name)) {
  process.stderr.write(`Unknown benchmark "${name}". Available: ${available.join(', ')}\n`);
  process.exit(1);
}

register();
const bench = await import(pathToFileURL(path.join(benchDir, `${name}.bench.ts`)).href);
try {
  await bench.main(args);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
