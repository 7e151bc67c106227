// `outpost export <folder>`: one `<ResourceType>.ndjson` per type, the FHIR bulk-data layout.
// Rows stream from SQLite in (type, rid) order, so one file is open at a time and memory stays flat.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/types.ts';

export interface ExportSummary {
  folder: string;
  /** Resources written per type. */
  counts: Record<string, number>;
  resources: number;
  seconds: number;
}

const FLUSH_BYTES = 1 << 20;

/** Writes every live (not deleted) resource; `project` limits it to one project. */
export function exportNdjson(db: Db, folder: string, options: { project?: string } = {}): ExportSummary {
  const start = performance.now();
  mkdirSync(folder, { recursive: true });
  const rows = options.project
    ? db.prepare('SELECT type, content FROM resource WHERE deleted = 0 AND project = ? ORDER BY type, rid').iterate(options.project)
    : db.prepare('SELECT type, content FROM resource WHERE deleted = 0 ORDER BY type, rid').iterate();
  const counts: Record<string, number> = {};
  let fd: number | undefined;
  let currentType = '';
  let buffer: string[] = [];
  let buffered = 0;
  const flush = (): void => {
    if (fd !== undefined && buffer.length) {
      writeSync(fd, buffer.join(''));
    }
    buffer = [];
    buffered = 0;
  };
  try {
    for (const row of rows as Iterable<{ type: string; content: string }>) {
      if (row.type !== currentType) {
        flush();
        if (fd !== undefined) {
          closeSync(fd);
        }
        currentType = row.type;
        fd = openSync(join(folder, `${row.type}.ndjson`), 'w');
        counts[row.type] = 0;
      }
      // Stored JSON is normally compact already; re-serialising it would only cost time.
      const line = row.content.includes('\n') ? JSON.stringify(JSON.parse(row.content)) : row.content;
      buffer.push(line, '\n');
      buffered += line.length + 1;
      counts[row.type]++;
      if (buffered >= FLUSH_BYTES) {
        flush();
      }
    }
    flush();
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
    }
  }
  const resources = Object.values(counts).reduce((a, b) => a + b, 0);
  return { folder, counts, resources, seconds: (performance.now() - start) / 1000 };
}
