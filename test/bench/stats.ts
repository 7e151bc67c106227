// Small helpers for measuring and printing: percentiles, number formats, Markdown tables.
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of a sample (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Milliseconds with 3 significant digits (0.0123, 1.23, 123). */
export function ms(value: number): string {
  if (!Number.isFinite(value)) {
    return '-';
  }
  if (value >= 100) {
    return value.toFixed(0);
  }
  return value.toPrecision(3);
}

export function ratio(value: number): string {
  if (!Number.isFinite(value)) {
    return '-';
  }
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const lines = [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/**
 * Peak resident set size of this process so far, in bytes. On Linux from /proc/self/status (VmHWM):
 * getrusage's maxRSS survives execve, so a child spawned by a large parent (the RSS probe, spawned by
 * the bench after its ingest race) would report the parent's size at fork as its own peak. VmHWM
 * belongs to the process's memory map, which exec replaces.
 */
export function peakRss(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) {
      return Number(match[1]) * 1024;
    }
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}
