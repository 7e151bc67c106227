// Where an AuditEvent goes when the database would not take it even after retries (disk full, a
// locked or closed database, a bug that made it invalid): one line appended to `audit-pending.ndjson`
// in the data folder, sealed with a key derived from the database key (the file sits beside an
// encrypted database and must not be the one place its contents are readable). The next start of the
// host replays the file into the store and reports what it did. Nothing here ever throws: the last
// resort, when even the file cannot be written, is the host's log.
import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import type { AuditEvent } from '@medplum/fhirtypes';
import { safeText } from '../../../shared/safe-text.ts';
import { derivedSealer, type SecretSealer } from '../sealing.ts';

export const AUDIT_SPILL_FILE = 'audit-pending.ndjson';

export interface SpilledEvent {
  event: AuditEvent;
  project: string;
  /** Why the store refused it (the last attempt's error, made safe). */
  error: string;
  /** ISO instant it was spilled. */
  at: string;
}

export interface SpillReplay {
  items: SpilledEvent[];
  /** Lines that could not be read back (a line cut by a crash, another key): kept aside, never dropped. */
  unreadable: number;
  /** Where unreadable lines were moved, when there were any. */
  unreadableFile?: string;
  /** Call once the items are stored (or spilled again): removes the file they were read from. */
  done(): void;
}

export interface AuditSpill {
  readonly file: string | undefined;
  append(items: SpilledEvent[]): void;
  /** Takes every spilled event for replay (undefined when there is none). */
  take(): SpillReplay | undefined;
}

export interface AuditSpillOptions {
  /** The file; undefined (an in-memory host) leaves only the log. */
  file?: string;
  /** The database key: the file's lines are sealed with a key derived from it (plain JSON without one). */
  key?: string;
  log: (message: string) => void;
}

interface Line {
  v: 1;
  sealed?: string;
  item?: SpilledEvent;
}

function sealerFor(key: string | undefined): SecretSealer | undefined {
  if (!key) {
    return undefined;
  }
  return derivedSealer(key, 'audit spill file');
}

export function createAuditSpill(opts: AuditSpillOptions): AuditSpill {
  const sealer = sealerFor(opts.key);
  const file = opts.file;

  function lineOf(item: SpilledEvent): string {
    const json = JSON.stringify(item);
    const line: Line = sealer ? { v: 1, sealed: sealer.seal(Buffer.from(json, 'utf8')).toString('base64') } : { v: 1, item };
    return `${JSON.stringify(line)}\n`;
  }

  function read(text: string): { items: SpilledEvent[]; bad: string[] } {
    const items: SpilledEvent[] = [];
    const bad: string[] = [];
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') {
        continue;
      }
      try {
        const line = JSON.parse(raw) as Line;
        const item = line.sealed !== undefined ? (JSON.parse(sealer?.unseal(Buffer.from(line.sealed, 'base64')).toString('utf8') ?? 'null') as SpilledEvent) : line.item;
        if (!item || item.event?.resourceType !== 'AuditEvent' || typeof item.project !== 'string') {
          throw new Error('not a spilled AuditEvent');
        }
        items.push(item);
      } catch {
        bad.push(raw);
      }
    }
    return { items, bad };
  }

  return {
    file,
    append(items) {
      if (items.length === 0) {
        return;
      }
      if (file) {
        try {
          appendFileSync(file, items.map(lineOf).join(''), { mode: 0o600 });
          opts.log(`Outpost: ${items.length} audit event(s) could not be stored in the database and were kept in ${file} (${items[0].error}); they are stored at the next start`);
          return;
        } catch (err) {
          opts.log(`Outpost: could not keep audit events in ${file}: ${safeText((err as Error).message) ?? 'error'}`);
        }
      }
      // The last resort: the events themselves in the log, so they are still somewhere.
      for (const item of items) {
        opts.log(`Outpost: audit event not stored (${item.error}): ${JSON.stringify(item)}`);
      }
    },
    take() {
      if (!file) {
        return undefined;
      }
      // A replay interrupted by a crash left its file: take it with whatever was spilled since.
      const replaying = `${file}.replaying`;
      try {
        if (existsSync(file)) {
          if (existsSync(replaying)) {
            appendFileSync(replaying, readFileSync(file));
            unlinkSync(file);
          } else {
            renameSync(file, replaying);
          }
        }
        if (!existsSync(replaying)) {
          return undefined;
        }
        const { items, bad } = read(readFileSync(replaying, 'utf8'));
        let unreadableFile: string | undefined;
        if (bad.length) {
          unreadableFile = `${file}.unreadable`;
          appendFileSync(unreadableFile, bad.map((l) => `${l}\n`).join(''), { mode: 0o600 });
        }
        return {
          items,
          unreadable: bad.length,
          unreadableFile,
          done: () => {
            try {
              unlinkSync(replaying);
            } catch (err) {
              opts.log(`Outpost: could not remove ${replaying}: ${safeText((err as Error).message) ?? 'error'}`);
            }
          },
        };
      } catch (err) {
        opts.log(`Outpost: could not read the kept audit events in ${file}: ${safeText((err as Error).message) ?? 'error'}`);
        return undefined;
      }
    },
  };
}
