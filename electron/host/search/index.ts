// Entry point of the search module: what the store integrates with (see types.ts for the contracts).
import { evalFhirPathTyped, splitSearchOnComma } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import type { Db } from '../store/types.ts';
import { getParamRegistry } from './params.ts';
import { searchIndexMigration } from './schema.ts';
import type { FindRids, Migration, SearchFn, SearchIndexer } from './types.ts';

export type { FindRids, Migration, SearchFn, SearchIndexer, SearchOptions, SqlFragment } from './types.ts';

export const searchMigrations: Migration[] = [searchIndexMigration];

// Step-1 version: token and reference parameters through the FHIRPath interpreter. Replaced by the
// compiled extractors (extract.ts) and the full query compiler.
export function createSearchIndexer(): SearchIndexer {
  return {
    index(db: Db, rid: number, resource: Resource): void {
      const insToken = db.prepare('INSERT OR IGNORE INTO idx_token (pid, code, system, rid) VALUES (?, ?, ?, ?)');
      const insRef = db.prepare('INSERT OR IGNORE INTO idx_ref (pid, ref_id, ref_type, rid) VALUES (?, ?, ?, ?)');
      for (const def of getParamRegistry().forType(resource.resourceType).values()) {
        if (!def.expression || (def.type !== 'token' && def.type !== 'reference')) {
          continue;
        }
        let values;
        try {
          values = evalFhirPathTyped(def.expression, [{ type: resource.resourceType, value: resource }]);
        } catch {
          continue;
        }
        for (const { value } of values) {
          if (def.type === 'reference') {
            const ref = typeof value?.reference === 'string' ? value.reference : undefined;
            const m = ref ? /^([A-Za-z]+)\/([^/]+)$/.exec(ref) : null;
            if (m) {
              insRef.run(def.pid, m[2], m[1], rid);
            }
          } else if (typeof value === 'string' || typeof value === 'boolean') {
            insToken.run(def.pid, String(value), '', rid);
          } else if (value && typeof value === 'object') {
            const codings = value.coding ?? (value.code !== undefined ? [value] : []);
            for (const c of codings) {
              if (c.code) insToken.run(def.pid, String(c.code), c.system ?? '', rid);
            }
            if (value.value !== undefined && value.coding === undefined) {
              insToken.run(def.pid, String(value.value), value.system ?? '', rid);
            }
          }
        }
      }
    },
    remove(db: Db, rid: number): void {
      db.prepare('DELETE FROM idx_token WHERE rid = ?').run(rid);
      db.prepare('DELETE FROM idx_ref WHERE rid = ?').run(rid);
    },
  };
}

export const findRids: FindRids = (db, resourceType, query, opts) => {
  const registry = getParamRegistry();
  const where: string[] = ['r.type = ?', 'r.project = ?', 'r.deleted = 0'];
  const params: unknown[] = [resourceType, opts.project];
  for (const [name, raw] of new URLSearchParams(query)) {
    const values = splitSearchOnComma(raw);
    if (name === '_id') {
      where.push(`r.id IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
      continue;
    }
    const def = registry.get(resourceType, name);
    if (!def || (def.type !== 'token' && def.type !== 'reference')) {
      throw errors.badRequest(`Unknown search parameter: ${name}`, name);
    }
    const ors: string[] = [];
    for (const v of values) {
      if (def.type === 'token') {
        const bar = v.indexOf('|');
        if (bar < 0) {
          ors.push('r.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ?)');
          params.push(def.pid, v);
        } else {
          ors.push('r.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ? AND system = ?)');
          params.push(def.pid, v.slice(bar + 1), v.slice(0, bar));
        }
      } else {
        const [t, id] = v.includes('/') ? v.split('/') : [undefined, v];
        ors.push(`r.rid IN (SELECT rid FROM idx_ref WHERE pid = ? AND ref_id = ?${t ? ' AND ref_type = ?' : ''})`);
        params.push(def.pid, id, ...(t ? [t] : []));
      }
    }
    where.push(`(${ors.join(' OR ')})`);
  }
  const rows = db.prepare(`SELECT r.rid FROM resource r WHERE ${where.join(' AND ')}`).all(...params) as { rid: number }[];
  return rows.map((row) => row.rid);
};

export const searchResources: SearchFn = (db, resourceType, query, opts): Bundle => {
  if (!resourceType) {
    throw errors.badRequest('System search is not supported yet');
  }
  const rids = findRids(db, resourceType, query, opts);
  const get = db.prepare('SELECT id, content FROM resource WHERE rid = ?');
  const entries = rids.map((rid) => {
    const row = get.get(rid) as { id: string; content: string };
    return { fullUrl: `${opts.baseUrl}${resourceType}/${row.id}`, resource: JSON.parse(row.content) as Resource, search: { mode: 'match' as const } };
  });
  return { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries, link: [{ relation: 'self', url: `${opts.baseUrl}${resourceType}?${query}` }] };
};
