// The remote of each project: FHIR base URL and how to authenticate (a bearer token, or OAuth2 client
// credentials against Medplum's /oauth2/token). The secret (token or client secret) is sealed before it
// reaches SQLite and is only unsealed in memory when sync needs it: no route, log or error carries it.
//
// Sealing (../sealing.ts): in the desktop app, whose database key the OS keychain keeps, with a key
// derived from the database key; browser mode and the CLI use a key in `<data>/sync-secrets.key` (mode
// 0600, created on first use). Either way a copied database alone does not give the secrets away.
// Migration 34 (tables below) is S3's part of sync's schema.
import { join } from 'node:path';
import { errors } from '../../../shared/errors.ts';
import { keyFileSealer, type SecretSealer } from '../sealing.ts';
import type { Migration } from '../db/types.ts';
import type { Db } from '../db/types.ts';

export const SYNC_SECRET_KEY_FILE = 'sync-secrets.key';

// sync_remote   project -> FHIR base URL, auth 'token' | 'client-credentials', client_id, token_url
//               (NULL: derived from the base URL), secret (sealed token or client secret), updated_at
// sync_lock     one row per lock name: owner (host:pid:random), pid, host, expires_at (epoch ms); taken in
//               an immediate (write) transaction, so two processes on one file cannot both hold it
// sync_state    project -> last_sync (ISO instant of the last finished run), last_result (JSON summary)
export const syncRunMigration: Migration = {
  version: 34,
  name: 'sync remotes, run lock and run state',
  up(db) {
    db.exec(`
      CREATE TABLE sync_remote (
        project TEXT PRIMARY KEY,
        base_url TEXT NOT NULL,
        auth TEXT NOT NULL CHECK (auth IN ('token', 'client-credentials')),
        client_id TEXT,
        token_url TEXT,
        secret BLOB NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sync_lock (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE sync_state (
        project TEXT PRIMARY KEY,
        last_sync TEXT,
        last_result TEXT
      ) WITHOUT ROWID;
    `);
  },
};

/** Browser mode and the CLI: sync's own key file in the data folder (created on first use). */
export function syncKeyFileSealer(dataDir: string): SecretSealer {
  return keyFileSealer(join(dataDir, SYNC_SECRET_KEY_FILE));
}

export type RemoteAuthKind = 'token' | 'client-credentials';

/** A remote as every route and log may show it: never a secret. */
export interface RemoteView {
  project: string;
  baseUrl: string;
  auth: RemoteAuthKind;
  clientId?: string;
  /** Only when configured explicitly (otherwise derived from baseUrl, see tokenUrlFor). */
  tokenUrl?: string;
  updatedAt: string;
}

/** What sync needs to talk to the remote: the view plus the unsealed secret (memory only). */
export interface RemoteSettings {
  baseUrl: string;
  auth: RemoteAuthKind;
  /** auth 'token'. */
  token?: string;
  /** auth 'client-credentials'. */
  clientId?: string;
  clientSecret?: string;
  tokenUrl?: string;
}

export type RemoteInput =
  | { baseUrl: string; token: string; tokenUrl?: undefined }
  | { baseUrl: string; clientId: string; clientSecret: string; tokenUrl?: string };

/** The base URL with one trailing slash; 400 unless http(s) without credentials in it. */
export function normalizeBaseUrl(value: string, field = 'baseUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.badRequest(`${field} is not a URL`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw errors.badRequest(`${field} must be an http or https URL`, field);
  }
  if (url.username || url.password) {
    throw errors.badRequest(`${field} must not carry credentials`, field);
  }
  url.hash = '';
  url.search = '';
  return url.toString().replace(/\/*$/, '/');
}

/**
 * Medplum's server root for a FHIR base URL: 'https://api.medplum.com/fhir/R4/' -> 'https://api.medplum.com/'.
 * A base URL not ending in fhir/R4 keeps its own path (servers mounted under a prefix).
 */
export function serverRootOf(baseUrl: string): string {
  const url = new URL(normalizeBaseUrl(baseUrl));
  url.pathname = url.pathname.replace(/fhir\/R4\/$/i, '');
  return url.toString();
}

/** Where client credentials are exchanged: configured, else `<server root>/oauth2/token` as on Medplum. */
export function tokenUrlFor(settings: Pick<RemoteSettings, 'baseUrl' | 'tokenUrl'>): string {
  return settings.tokenUrl ?? new URL('oauth2/token', serverRootOf(settings.baseUrl)).toString();
}

export interface SyncConfig {
  /** The remote of a project without its secret, or undefined. */
  get(project: string): RemoteView | undefined;
  /** Every configured remote (background sync walks them). */
  list(): RemoteView[];
  /** The remote with its secret unsealed, for sync itself. Never put the result in a response or log. */
  settings(project: string): RemoteSettings | undefined;
  /** Creates or replaces the remote of a project; returns what may be shown. */
  set(project: string, input: RemoteInput): RemoteView;
  /** Removes the remote; true when there was one. */
  remove(project: string): boolean;
}

interface RemoteRow {
  project: string;
  base_url: string;
  auth: RemoteAuthKind;
  client_id: string | null;
  token_url: string | null;
  secret: Buffer;
  updated_at: number;
}

function view(row: RemoteRow): RemoteView {
  return {
    project: row.project,
    baseUrl: row.base_url,
    auth: row.auth,
    ...(row.client_id ? { clientId: row.client_id } : {}),
    ...(row.token_url ? { tokenUrl: row.token_url } : {}),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function nonEmpty(value: unknown, field: string, max = 8192): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw errors.badRequest(`${field} is required`, field);
  }
  if (value.length > max) {
    throw errors.badRequest(`${field} is too long`, field);
  }
  return value.trim();
}

export function createSyncConfig(db: Db, sealer: SecretSealer, clock: () => Date = () => new Date()): SyncConfig {
  const sql = {
    get: db.prepare<[string], RemoteRow>('SELECT * FROM sync_remote WHERE project = ?'),
    list: db.prepare<[], RemoteRow>('SELECT * FROM sync_remote ORDER BY project'),
    upsert: db.prepare<[string, string, RemoteAuthKind, string | null, string | null, Buffer, number]>(
      `INSERT OR REPLACE INTO sync_remote (project, base_url, auth, client_id, token_url, secret, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    remove: db.prepare<[string]>('DELETE FROM sync_remote WHERE project = ?'),
  };
  return {
    get(project) {
      const row = sql.get.get(project);
      return row ? view(row) : undefined;
    },
    list: () => sql.list.all().map(view),
    settings(project) {
      const row = sql.get.get(project);
      if (!row) {
        return undefined;
      }
      let secret: string;
      try {
        secret = sealer.unseal(row.secret).toString('utf8');
      } catch {
        throw errors.internal('The stored secret of this remote cannot be unsealed (was its key replaced?): configure the remote again');
      }
      return row.auth === 'token'
        ? { baseUrl: row.base_url, auth: 'token', token: secret }
        : { baseUrl: row.base_url, auth: 'client-credentials', clientId: row.client_id ?? '', clientSecret: secret, tokenUrl: row.token_url ?? undefined };
    },
    set(project, input) {
      const baseUrl = normalizeBaseUrl(nonEmpty(input.baseUrl, 'baseUrl'));
      const isToken = 'token' in input && input.token !== undefined;
      const secret = isToken ? nonEmpty(input.token, 'token') : nonEmpty((input as { clientSecret?: unknown }).clientSecret, 'clientSecret');
      const clientId = isToken ? null : nonEmpty((input as { clientId?: unknown }).clientId, 'clientId', 256);
      const tokenUrl = !isToken && input.tokenUrl ? normalizeBaseUrl(input.tokenUrl, 'tokenUrl').replace(/\/$/, '') : null;
      sql.upsert.run(project, baseUrl, isToken ? 'token' : 'client-credentials', clientId, tokenUrl, sealer.seal(Buffer.from(secret, 'utf8')), clock().getTime());
      return view(sql.get.get(project)!);
    },
    remove: (project) => sql.remove.run(project).changes > 0,
  };
}
