import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIZE,
  clampToWorkAreas,
  defaultWindowState,
  loadWindowState,
  saveWindowState,
  type Rect,
} from '../../electron/shell/window-state.ts';

const laptop: Rect = { x: 0, y: 0, width: 1920, height: 1050 };
const rightMonitor: Rect = { x: 1920, y: 0, width: 2560, height: 1400 };

describe('window state', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-window-'));
    file = join(dir, 'window-state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts centred on the primary screen when nothing was saved', () => {
    const state = loadWindowState(file, [laptop, rightMonitor]);
    expect(state.maximized).toBe(false);
    expect(state.bounds).toEqual({ x: (1920 - DEFAULT_SIZE.width) / 2, y: (1050 - DEFAULT_SIZE.height) / 2, ...DEFAULT_SIZE });
  });

  it('restores the size and position it saved, and whether it was maximised', () => {
    saveWindowState(file, { bounds: { x: 2000, y: 100, width: 1400, height: 900 }, maximized: true });
    expect(loadWindowState(file, [laptop, rightMonitor])).toEqual({ bounds: { x: 2000, y: 100, width: 1400, height: 900 }, maximized: true });
  });

  it('ignores garbage: not JSON, wrong shapes, absurd numbers', () => {
    const fallback = defaultWindowState([laptop]);
    for (const garbage of [
      'not json {',
      '"a string"',
      'null',
      JSON.stringify({ bounds: { x: 'left', y: 0, width: 800, height: 600 } }),
      JSON.stringify({ bounds: { x: 0, y: 0, width: -5, height: 600 } }),
      JSON.stringify({ bounds: { x: 0, y: 0, width: 1e12, height: 600 } }),
      JSON.stringify({ bounds: { x: 0.5, y: 0, width: 800, height: 600 } }),
      JSON.stringify({ maximized: true }),
    ]) {
      writeFileSync(file, garbage);
      expect(loadWindowState(file, [laptop]), garbage).toEqual(fallback);
    }
  });

  it('brings back on screen a window saved on a monitor that is gone', () => {
    saveWindowState(file, { bounds: { x: 2200, y: 200, width: 1400, height: 900 }, maximized: false });
    const { bounds } = loadWindowState(file, [laptop]);
    expect(bounds.width).toBe(1400);
    expect(bounds.x).toBeGreaterThanOrEqual(0);
    expect(bounds.x + bounds.width).toBeLessThanOrEqual(1920);
    expect(bounds.y + bounds.height).toBeLessThanOrEqual(1050);
  });

  it('shrinks a window larger than its screen and pulls a half-visible one inside', () => {
    expect(clampToWorkAreas({ x: 100, y: 50, width: 3000, height: 2000 }, [laptop])).toEqual({ x: 0, y: 0, width: 1920, height: 1050 });
    expect(clampToWorkAreas({ x: 1500, y: 900, width: 800, height: 600 }, [laptop])).toEqual({ x: 1120, y: 450, width: 800, height: 600 });
  });

  it('never writes state it could not read back', () => {
    saveWindowState(file, { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false });
    saveWindowState(file, { bounds: { x: Number.NaN, y: 0, width: 800, height: 600 }, maximized: false });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false });
  });
});
