// Remembers the window's size and position between runs in a small JSON file in userData. What is read
// back is validated (anything else is ignored) and brought onto a screen that exists now: monitors come
// and go, and a window restored off-screen is a window a person cannot reach.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export const WINDOW_STATE_FILE = 'window-state.json';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  bounds: Rect;
  maximized: boolean;
}

export const DEFAULT_SIZE = { width: 1280, height: 800 } as const;
export const MIN_SIZE = { width: 800, height: 560 } as const;
/** At least this much of the title bar must be on a screen for a saved position to be kept. */
const MIN_VISIBLE = 64;

const coordinate = z.number().int().min(-100_000).max(100_000);
const length = z.number().int().min(1).max(100_000);

const windowStateSchema = z.object({
  bounds: z.object({ x: coordinate, y: coordinate, width: length, height: length }),
  maximized: z.boolean().default(false),
});

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

function centered(workArea: Rect, width: number, height: number): Rect {
  const w = Math.min(width, workArea.width);
  const h = Math.min(height, workArea.height);
  return {
    x: workArea.x + Math.round((workArea.width - w) / 2),
    y: workArea.y + Math.round((workArea.height - h) / 2),
    width: w,
    height: h,
  };
}

/** The default window: centred on the primary work area (the first one given). */
export function defaultWindowState(workAreas: readonly Rect[]): WindowState {
  const primary = workAreas[0] ?? { x: 0, y: 0, ...DEFAULT_SIZE };
  return { bounds: centered(primary, DEFAULT_SIZE.width, DEFAULT_SIZE.height), maximized: false };
}

/**
 * Fits saved bounds onto the current screens: the work area it overlaps most gets it, shrunk to fit and
 * moved fully inside. When its title bar is on no screen at all, it is centred on the primary one.
 */
export function clampToWorkAreas(bounds: Rect, workAreas: readonly Rect[]): Rect {
  const titleBar: Rect = { x: bounds.x, y: bounds.y, width: bounds.width, height: Math.min(bounds.height, 32) };
  let best: Rect | undefined;
  let bestOverlap = 0;
  for (const area of workAreas) {
    const visible = overlap(titleBar, area);
    if (visible > bestOverlap) {
      best = area;
      bestOverlap = visible;
    }
  }
  if (!best || bestOverlap < MIN_VISIBLE * Math.min(titleBar.height, 32)) {
    const primary = workAreas[0];
    return primary ? centered(primary, bounds.width, bounds.height) : bounds;
  }
  const width = Math.min(Math.max(bounds.width, Math.min(MIN_SIZE.width, best.width)), best.width);
  const height = Math.min(Math.max(bounds.height, Math.min(MIN_SIZE.height, best.height)), best.height);
  const x = Math.min(Math.max(bounds.x, best.x), best.x + best.width - width);
  const y = Math.min(Math.max(bounds.y, best.y), best.y + best.height - height);
  return { x, y, width, height };
}

/** Reads the saved state; a missing, unreadable or invalid file gives the default window. */
export function loadWindowState(file: string, workAreas: readonly Rect[]): WindowState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return defaultWindowState(workAreas);
  }
  const parsed = windowStateSchema.safeParse(raw);
  if (!parsed.success) {
    return defaultWindowState(workAreas);
  }
  return { bounds: clampToWorkAreas(parsed.data.bounds, workAreas), maximized: parsed.data.maximized };
}

/** Saves the state (write to a temporary file, then rename: a crash never leaves half a file). */
export function saveWindowState(file: string, state: WindowState): void {
  const parsed = windowStateSchema.safeParse(state);
  if (!parsed.success) {
    return; // never persist what could not be read back
  }
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(parsed.data, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, file);
}
