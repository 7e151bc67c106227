// Sync's secrets (remote tokens, client secrets) of a desktop data folder used to be sealed by Electron's
// safeStorage, in main. The host now runs in its own process, where safeStorage does not exist, and
// seals them with a key derived from the database key (which the OS keychain keeps, so a copied folder
// still gives nothing away). At the host's start, before it opens the store, a secret the new sealer
// cannot open is handed to main to unseal with safeStorage and written back sealed the new way; one main
// cannot unseal either is left as it is (sync then asks for the remote to be configured again).
import { existsSync } from 'node:fs';
import { openDatabase } from '../host/db/open.ts';
import type { SecretSealer } from '../host/sealing.ts';

/** Unseals, in main, secrets sealed by safeStorage (base64 in); null for one it cannot open. */
export type UnsealInMain = (sealed: string[]) => Promise<(string | null)[]>;

/** How many secrets were sealed again. */
export async function resealLegacySecrets(databaseFile: string, key: string, sealer: SecretSealer, unsealInMain: UnsealInMain): Promise<number> {
  if (!existsSync(databaseFile)) {
    return 0;
  }
  const db = openDatabase(databaseFile, key);
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_remote'").get();
    if (!hasTable) {
      return 0;
    }
    const rows = db.prepare<[], { project: string; secret: Buffer }>('SELECT project, secret FROM sync_remote').all();
    const legacy = rows.filter((row) => {
      try {
        sealer.unseal(row.secret);
        return false;
      } catch {
        return true;
      }
    });
    if (legacy.length === 0) {
      return 0;
    }
    const plain = await unsealInMain(legacy.map((row) => row.secret.toString('base64')));
    const update = db.prepare<[Buffer, string, Buffer]>('UPDATE sync_remote SET secret = ? WHERE project = ? AND secret = ?');
    let resealed = 0;
    db.transaction(() => {
      legacy.forEach((row, i) => {
        const secret = plain[i];
        if (typeof secret === 'string') {
          resealed += update.run(sealer.seal(Buffer.from(secret, 'utf8')), row.project, row.secret).changes;
        }
      });
    })();
    return resealed;
  } finally {
    db.close();
  }
}
