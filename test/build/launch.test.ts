// The `npm start` launcher's decision: the desktop app only when Electron's binary exists and a window
// can be shown, browser mode otherwise with one line saying why; `start:web` always browser mode.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideLaunch, findElectronBinary, hasDisplay, serveArgs } from '../../bin/launch.mjs';
import { repoRoot } from '../helpers/fixtures.ts';

const BINARY = '/opt/electron/electron';

describe('decideLaunch', () => {
  it('starts Electron when its binary exists and Linux has an X or Wayland display', () => {
    expect(decideLaunch({ electronBinary: BINARY, platform: 'linux', env: { DISPLAY: ':0' } })).toEqual({ mode: 'electron', binary: BINARY });
    expect(decideLaunch({ electronBinary: BINARY, platform: 'linux', env: { WAYLAND_DISPLAY: 'wayland-0' } })).toEqual({ mode: 'electron', binary: BINARY });
  });

  it('starts Electron on macOS and Windows without DISPLAY (they always have a screen)', () => {
    expect(decideLaunch({ electronBinary: BINARY, platform: 'darwin', env: {} }).mode).toBe('electron');
    expect(decideLaunch({ electronBinary: BINARY, platform: 'win32', env: {} }).mode).toBe('electron');
  });

  it('falls back to browser mode without a binary, saying so in one line', () => {
    for (const env of [{ DISPLAY: ':0' }, {}]) {
      const decision = decideLaunch({ electronBinary: undefined, platform: 'linux', env });
      expect(decision.mode).toBe('browser');
      expect(decision.mode === 'browser' && decision.reason).toMatch(/^[^\n]*binary[^\n]*browser mode\.$/);
    }
    expect(decideLaunch({ electronBinary: undefined, platform: 'darwin', env: {} }).mode).toBe('browser');
  });

  it('falls back to browser mode on Linux without a display, saying so in one line', () => {
    for (const env of [{}, { DISPLAY: '' }, { WAYLAND_DISPLAY: '' }]) {
      const decision = decideLaunch({ electronBinary: BINARY, platform: 'linux', env });
      expect(decision.mode).toBe('browser');
      expect(decision.mode === 'browser' && decision.reason).toMatch(/^[^\n]*display[^\n]*browser mode\.$/);
    }
  });

  it('start:web forces browser mode without a message, even when Electron could run', () => {
    expect(decideLaunch({ forceWeb: true, electronBinary: BINARY, platform: 'linux', env: { DISPLAY: ':0' } })).toEqual({ mode: 'browser', reason: undefined });
  });

  it('hasDisplay reads DISPLAY and WAYLAND_DISPLAY on other platforms only', () => {
    expect(hasDisplay('linux', {})).toBe(false);
    expect(hasDisplay('freebsd', { DISPLAY: ':1' })).toBe(true);
    expect(hasDisplay('win32', {})).toBe(true);
  });
});

describe('findElectronBinary', () => {
  it("is the path require('electron') gives when that file exists", () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-electron-'));
    try {
      const binary = join(dir, 'electron');
      writeFileSync(binary, '');
      expect(findElectronBinary({ requireFrom: () => binary })).toBe(binary);
      expect(findElectronBinary({ requireFrom: () => join(dir, 'missing') })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is undefined when the package throws (installed without its download) or is absent', () => {
    const throws = () => {
      throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');
    };
    expect(findElectronBinary({ requireFrom: throws })).toBeUndefined();
    expect(findElectronBinary({ requireFrom: () => ({ not: 'a path' }) })).toBeUndefined();
  });
});

describe('the launcher command', () => {
  it('passes --data, --port and --demo on to `outpost serve`', () => {
    expect(serveArgs({})).toEqual(['serve']);
    expect(serveArgs({ data: '/tmp/clinic', port: '0', demo: true })).toEqual(['serve', '--data', '/tmp/clinic', '--port', '0', '--demo']);
  });

  it('refuses an unknown option with its usage and exit code 2, starting nothing', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'launch.mjs'), '--bogus'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--bogus/);
    expect(result.stderr).toMatch(/Usage: npm start/);
  });

  it('declares start, start:web, build, build:renderer and the dist scripts in package.json', async () => {
    const { default: pkg } = (await import('../../package.json', { with: { type: 'json' } })) as { default: { scripts: Record<string, string> } };
    expect(pkg.scripts.start).toBe('node bin/launch.mjs');
    expect(pkg.scripts['start:web']).toBe('node bin/launch.mjs --web');
    expect(pkg.scripts.build).toBe('node build/build.mjs');
    expect(pkg.scripts['build:renderer']).toMatch(/build\/build\.mjs --only renderer/);
    for (const [script, flag] of [['dist', ''], ['dist:linux', ' --linux'], ['dist:win', ' --win'], ['dist:mac', ' --mac']]) {
      expect(pkg.scripts[script]).toBe(`npm run build && electron-builder --config build/electron-builder.config.cjs --publish never${flag}`);
    }
  });
});
