// The data folder: per-user defaults per platform, overrides, and secret files with mode 0600.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir, readOrCreateDatabaseKey, resolveDataDir, KEY_FILE } from '../../electron/host/paths.ts';
import { tempDir } from './helpers.ts';

describe('data folder', () => {
  it('defaults to the per-user folder of each platform', () => {
    expect(defaultDataDir('linux', {}, '/home/ana')).toBe('/home/ana/.local/share/outpost');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/xdg' }, '/home/ana')).toBe('/xdg/outpost');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: 'relative' }, '/home/ana')).toBe('/home/ana/.local/share/outpost');
    expect(defaultDataDir('darwin', {}, '/Users/ana')).toBe('/Users/ana/Library/Application Support/Outpost');
    expect(defaultDataDir('win32', { APPDATA: 'C:/Users/ana/AppData/Roaming' }, 'C:/Users/ana')).toBe(join('C:/Users/ana/AppData/Roaming', 'Outpost'));
  });

  it('--data wins over OUTPOST_DATA_DIR, which wins over the default', () => {
    const env = { OUTPOST_DATA_DIR: '/env/dir' };
    expect(resolveDataDir({ flag: '/flag/dir', env })).toBe('/flag/dir');
    expect(resolveDataDir({ env })).toBe('/env/dir');
    expect(resolveDataDir({ env: {}, platform: 'linux', home: '/home/ana' })).toBe('/home/ana/.local/share/outpost');
  });

  it('keeps one database key per folder in a 0600 file', () => {
    const dir = tempDir();
    const key = readOrCreateDatabaseKey(dir);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(readOrCreateDatabaseKey(dir)).toBe(key);
    expect(readFileSync(join(dir, KEY_FILE), 'utf8').trim()).toBe(key);
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('refuses to invent a key for an existing database whose key file is gone', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'outpost.db'), '');
    expect(() => readOrCreateDatabaseKey(dir)).toThrow(/outpost\.key is missing/);
  });
});
