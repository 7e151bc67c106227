// Where Outpost keeps its data: one folder per user, overridable by `--data <dir>` or OUTPOST_DATA_DIR.
// In it: `outpost.db` (the SQLCipher database), `outpost.key` (its random key, mode 0600, CLI/browser
// mode only: Electron keeps its key in the OS keychain later) and `http-token` (the loopback bearer token).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DB_FILE = 'outpost.db';
export const KEY_FILE = 'outpost.key';
export const TOKEN_FILE = 'http-token';

export interface DataDirInput {
  /** `--data <dir>` from the command line: wins over everything. */
  flag?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/** The per-user default data folder of this platform. */
export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') {
    return join(home, 'Library', 'Application Support', 'Outpost');
  }
  if (platform === 'win32') {
    return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Outpost');
  }
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), 'outpost');
}

/** `--data` flag, else OUTPOST_DATA_DIR, else the per-user default; always absolute. */
export function resolveDataDir(input: DataDirInput = {}): string {
  const env = input.env ?? process.env;
  if (input.flag) {
    return resolve(input.flag);
  }
  if (env.OUTPOST_DATA_DIR) {
    return resolve(env.OUTPOST_DATA_DIR);
  }
  return defaultDataDir(input.platform ?? process.platform, env, input.home ?? homedir());
}

/** Creates the data folder (owner-only on POSIX) when it does not exist. */
export function ensureDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return dataDir;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

/**
 * Reads a secret file, or creates it with fresh random hex and mode 0600 when absent.
 * The `wx` flag makes creation exclusive so two processes starting at once cannot overwrite each other.
 */
export function readOrCreateSecret(file: string, bytes = 32): string {
  if (existsSync(file)) {
    return readFileSync(file, 'utf8').trim();
  }
  const secret = randomBytes(bytes).toString('hex');
  try {
    writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      return readFileSync(file, 'utf8').trim();
    }
    throw err;
  }
  return secret;
}

/** Writes a new secret (replacing any previous one) with mode 0600. */
export function writeSecret(file: string, bytes = 32): string {
  const secret = randomBytes(bytes).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode on write: force it
  return secret;
}

/**
 * The database key of the CLI/browser mode: `outpost.key` beside the database, created with the
 * database. A database without its key file is refused rather than given a new key that cannot open it.
 */
export function readOrCreateDatabaseKey(dataDir: string): string {
  const keyFile = join(dataDir, KEY_FILE);
  if (!existsSync(keyFile) && existsSync(databasePath(dataDir))) {
    throw new Error(`${databasePath(dataDir)} exists but its key file ${keyFile} is missing: restore it from the backup of this data folder`);
  }
  return readOrCreateSecret(keyFile);
}
