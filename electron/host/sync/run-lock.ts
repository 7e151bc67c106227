// The run lock: one sync at a time per database file, across processes (the app and `outpost sync`).
// A row in `sync_lock` (migration 34) names its owner and expires; it is taken in an IMMEDIATE (write)
// transaction, so two processes reading "free" at once cannot both write themselves in. The holder
// renews it while it runs; a lock whose holder crashed is taken over once it has expired, or at once
// when it was held on this machine by a process that no longer exists.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from '../db/types.ts';

export interface LockRow {
  name: string;
  owner: string;
  pid: number;
  host: string;
  expires_at: number;
}

export interface RunLockOptions {
  name?: string;
  /** How long a lock lives without renewal (default 60 s). */
  ttlMs?: number;
  /** Wall clock for expiry (default Date.now): never a test's frozen clock, or nothing would expire. */
  now?: () => number;
  pid?: number;
  host?: string;
  /** Whether a process of this machine is alive (default: signal 0). */
  isAlive?: (pid: number) => boolean;
}

export interface RunLock {
  readonly owner: string;
  /** Takes the lock; the holder's row when someone else has it. */
  acquire(): { ok: true } | { ok: false; holder: LockRow };
  /** Pushes the expiry forward; false when the lock was lost (taken over after expiring). */
  renew(): boolean;
  release(): void;
  holder(): LockRow | undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createRunLock(db: Db, options: RunLockOptions = {}): RunLock {
  const name = options.name ?? 'sync';
  const ttl = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const pid = options.pid ?? process.pid;
  const host = options.host ?? hostname();
  const isAlive = options.isAlive ?? processAlive;
  const owner = `${host}:${pid}:${randomUUID()}`;
  const sql = {
    get: db.prepare<[string], LockRow>('SELECT * FROM sync_lock WHERE name = ?'),
    put: db.prepare<[string, string, number, string, number]>('INSERT OR REPLACE INTO sync_lock (name, owner, pid, host, expires_at) VALUES (?, ?, ?, ?, ?)'),
    renew: db.prepare<[number, string, string]>('UPDATE sync_lock SET expires_at = ? WHERE name = ? AND owner = ?'),
    release: db.prepare<[string, string]>('DELETE FROM sync_lock WHERE name = ? AND owner = ?'),
  };

  function stale(row: LockRow): boolean {
    if (row.expires_at <= now()) {
      return true;
    }
    return row.host === host && row.pid !== pid && !isAlive(row.pid);
  }

  const take = db.transaction((): { ok: true } | { ok: false; holder: LockRow } => {
    const row = sql.get.get(name);
    if (row && row.owner !== owner && !stale(row)) {
      return { ok: false, holder: row };
    }
    sql.put.run(name, owner, pid, host, now() + ttl);
    return { ok: true };
  });

  return {
    owner,
    acquire: () => take.immediate(),
    renew: () => sql.renew.run(now() + ttl, name, owner).changes > 0,
    release: () => void sql.release.run(name, owner),
    holder: () => {
      const row = sql.get.get(name);
      return row && !stale(row) ? row : undefined;
    },
  };
}
