// Server-assigned resource ids. UUID version 7 (RFC 9562): a 48-bit millisecond timestamp, then
// random bits. They are as unguessable in their random part as version 4, and they sort by creation
// time, which keeps SQLite's B-trees keyed by id (resource(type, id), reference and compartment
// index rows) appending near their end instead of touching a random page per insert: a large
// share of ingest cost is the pages each transaction dirties.
import { randomUUID } from 'node:crypto';

/** A fresh UUIDv7 string (lower-case, hyphenated). */
export function newResourceId(now: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, variant bits already RFC 9562
  const time = now.toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
