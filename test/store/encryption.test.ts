// Encryption at rest: with a key, no trace of a resource in the file bytes, and the file cannot be
// opened without the key (or with a wrong one); without a key, the canary is plainly there.
import type { Patient } from '@medplum/fhirtypes';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../../electron/host/store/index.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { isFhirError } from '../../shared/errors.ts';
import { tempDir } from './helpers.ts';

const CANARY = 'Zanzibar-Canary-7f3a9c';

function fileBytes(file: string): Buffer {
  const parts = [file, `${file}-wal`, `${file}-shm`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
  return Buffer.concat(parts);
}

/** Writes the canary; returns its id and the bytes of the file and its WAL while the store was still open. */
function writeCanary(file: string, key?: string): { id: string; openBytes: Buffer } {
  const store = createStore({ path: file, key });
  const { resource } = store.create<Patient>({ resourceType: 'Patient', name: [{ family: CANARY, given: [CANARY] }] });
  store.update<Patient>({ ...resource, gender: 'female' });
  // While open, the latest pages live in the -wal file (closing checkpoints and removes it).
  const openBytes = fileBytes(file);
  expect(fs.existsSync(`${file}-wal`)).toBe(true);
  store.close();
  return { id: resource.id as string, openBytes };
}

describe('encryption at rest', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('leaves no trace of the canary in an encrypted file, and reads it back with the key', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'store.db');
    const key = `it's a "secret" key; DROP TABLE resource; --`;
    const { id, openBytes } = writeCanary(file, key);

    for (const bytes of [openBytes, fileBytes(file)]) {
      expect(bytes.length).toBeGreaterThan(0);
      expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
      expect(bytes.includes(Buffer.from('Patient'))).toBe(false);
      expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
    }

    const store = createStore({ path: file, key });
    expect(store.read('Patient', id)).toMatchObject({ name: [{ family: CANARY }], gender: 'female' });
    store.close();
  });

  it('refuses to open an encrypted file without the key or with a wrong key, with a clear FhirError', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'store.db');
    writeCanary(file, 'right key');

    for (const key of [undefined, 'wrong key']) {
      let caught: unknown;
      try {
        createStore({ path: file, key });
      } catch (err) {
        caught = err;
      }
      expect(isFhirError(caught)).toBe(true);
      expect((caught as Error).message).toMatch(key === undefined ? /encrypted|key/i : /wrong key/i);
      expect(() => openDatabase(file, key)).toThrow();
    }
    // The file was not damaged by the failed attempts.
    const store = createStore({ path: file, key: 'right key' });
    expect((store.db.prepare('SELECT count(*) AS n FROM resource').get() as { n: number }).n).toBe(1);
    store.close();
  });

  it('without a key the canary is in the file (the check above is meaningful)', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = path.join(dir, 'plain.db');
    const { openBytes } = writeCanary(file);
    expect(openBytes.includes(Buffer.from(CANARY))).toBe(true);
    expect(fileBytes(file).includes(Buffer.from(CANARY))).toBe(true);
  });
});
