// The query of a history interaction: `_since`, `_count`, `_offset` (paging links), nothing else.
import { errors } from '../../../shared/errors.ts';
import type { HistoryQuery } from '../access/index.ts';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const IGNORED = new Set(['_format', '_pretty']);

function nonNegativeInt(name: string, value: string, max: number): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw errors.badRequest(`${name} must be a non-negative integer`, name);
  }
  return Math.min(Number(value), max);
}

export function readHistoryQuery(query: string): Omit<HistoryQuery, 'resourceType' | 'id'> {
  const out: Omit<HistoryQuery, 'resourceType' | 'id'> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === '_since') {
      if (!INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
        throw errors.badRequest('_since must be an instant such as 2024-01-31T12:00:00Z', '_since');
      }
      out.since = value;
    } else if (name === '_count') {
      out.count = nonNegativeInt(name, value, 1000);
    } else if (name === '_offset') {
      out.offset = nonNegativeInt(name, value, Number.MAX_SAFE_INTEGER);
    } else if (!IGNORED.has(name)) {
      throw errors.badRequest(`Unsupported history parameter: ${name}`, name);
    }
  }
  return out;
}
