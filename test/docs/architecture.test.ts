// docs/architecture.md stays true: every file and folder it names (written from the repository root:
// electron/..., renderer/..., shared/..., build/..., test/..., docs/..., bin/...) exists, so moving or
// renaming one without fixing the document fails here; and every folder and module of electron/host/
// is named, so a new one is placed in the layers by whoever adds it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../store/helpers.ts';

const ROOTS = ['electron', 'renderer', 'shared', 'build', 'test', 'docs', 'bin'];
const PATH = new RegExp(`(?<![\\w./-])(?:${ROOTS.join('|')})/[A-Za-z0-9_.\\-/]*`, 'g');

/** The repository paths a document names, each once, without trailing punctuation. */
export function namedPaths(text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(PATH)) {
    found.add(match[0].replace(/[.,:;]+$/, ''));
  }
  return [...found];
}

/** The named paths that do not exist under `root`. */
export function missingPaths(text: string, root: string): string[] {
  return namedPaths(text).filter((p) => !existsSync(join(root, p)));
}

describe('docs/architecture.md', () => {
  const text = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');

  it('names only files and folders that exist', () => {
    expect(namedPaths(text).length).toBeGreaterThan(60);
    expect(missingPaths(text, repoRoot)).toEqual([]);
  });

  it('places every folder and module of electron/host/ in its layers', () => {
    const named = new Set(namedPaths(text).map((p) => p.replace(/\/$/, '')));
    const entries = readdirSync(join(repoRoot, 'electron', 'host'), { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => `electron/host/${e.name}`);
    expect(entries.length).toBeGreaterThan(15);
    expect(entries.filter((entry) => !named.has(entry))).toEqual([]);
  });

  it('the check finds a path that is gone, and reads paths in prose, tables and code blocks alike', () => {
    const planted = `${text}\n\nSee \`electron/host/routes/gone.ts\`, and electron/host/nowhere/.\n\n| x | renderer/src/api/missing.ts |\n\n\`\`\`\nshared/contract/absent.ts\n\`\`\`\n`;
    expect(missingPaths(planted, repoRoot)).toEqual(['electron/host/routes/gone.ts', 'electron/host/nowhere/', 'renderer/src/api/missing.ts', 'shared/contract/absent.ts']);
    // URLs and host routes are not repository paths.
    expect(namedPaths('GET /fhir/R4/Patient, http://127.0.0.1:8103/auth/me, outpost/sync/status, https://x.test/electron/y')).toEqual([]);
  });
});
