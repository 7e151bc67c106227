// Background checkpoints (store/checkpointer.ts): with the option on, WAL pages reach the database
// file while the store stays open, without the writer checkpointing (its own autocheckpoint is far
// off); encrypted files stay encrypted; close leaves no WAL; a worker that cannot open the file
// reports it and the store carries on.
import fs from 'node:fs';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackgroundCheckpointer } from '../../electron/host/store/checkpointer.ts';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { smallestSyntheaBundles, tempDir } from './helpers.ts';

const CANARY = 'Checkpoint-Canary-41b7';
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  stores.splice(0).forEach((s) => s.close());
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function fileStore(opts: { key?: string; backgroundCheckpoint: boolean }): { store: Store; file: string } {
  const dir = tempDir('outpost-ckpt-');
  dirs.push(dir);
  const file = path.join(dir, 'store.db');
  const store = createStore({ path: file, ...opts });
  stores.push(store);
  return { store, file };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes one Synthea Bundle plus a canary patient; every page of it goes to the WAL first. */
function writeSome(store: Store): void {
  store.processBundle(smallestSyntheaBundles(1)[0]);
  store.create<Patient>({ resourceType: 'Patient', name: [{ family: CANARY }] });
}

/** Waits until the database file (not its WAL) grows past `bytes`, for up to `ms`. */
async function fileGrowsPast(file: string, bytes: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let size = fs.statSync(file).size;
  while (size <= bytes && Date.now() < until) {
    await sleep(50);
    size = fs.statSync(file).size;
  }
  return size;
}

describe('background checkpoints', () => {
  it('copy WAL pages into the database file while the store is open', async () => {
    const { store, file } = fileStore({ backgroundCheckpoint: true });
    const before = fs.statSync(file).size;
    writeSome(store);
    const walPages = fs.statSync(`${file}-wal`).size / 4096;
    expect(walPages).toBeLessThan(8_000); // below any autocheckpoint: only the worker copies pages
    expect(await fileGrowsPast(file, before + 200_000, 5_000)).toBeGreaterThan(before + 200_000);
    expect(store.search('Patient', `name=${CANARY}`).entry).toHaveLength(1);
  });

  it('without the option, the pages stay in the WAL until an autocheckpoint or close', async () => {
    const { store, file } = fileStore({ backgroundCheckpoint: false });
    const before = fs.statSync(file).size;
    writeSome(store);
    expect(await fileGrowsPast(file, before + 200_000, 600)).toBeLessThanOrEqual(before + 200_000);
  });

  it('keeps an encrypted file encrypted, and close leaves no WAL behind', async () => {
    const key = 'a key with "quotes" and; semicolons';
    const { store, file } = fileStore({ key, backgroundCheckpoint: true });
    const before = fs.statSync(file).size;
    writeSome(store);
    await fileGrowsPast(file, before + 200_000, 5_000);
    expect(fs.readFileSync(file).includes(CANARY)).toBe(false);
    store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const reopened = createStore({ path: file, key });
    stores.push(reopened);
    expect(reopened.search('Patient', `name=${CANARY}`).entry).toHaveLength(1);
  });

  it('reports a worker that cannot open the database, and stop() returns at once', async () => {
    const errors: string[] = [];
    const checkpointer = startBackgroundCheckpointer({ path: '/nonexistent-dir/outpost/store.db', onError: (m) => errors.push(m) });
    const until = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < until) {
      await sleep(20);
    }
    expect(errors[0]).toMatch(/directory|unable to open|cannot open/i);
    const started = Date.now();
    checkpointer.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
