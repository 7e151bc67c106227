// Index tables of the search module (migration 2). Every table is keyed by an integer parameter id
// (`pid`, a stable hash of "ResourceType.code", see params.ts) + the indexed value + the resource's
// rid, clustered WITHOUT ROWID so a lookup by (pid, value) is one B-tree range, with a secondary
// index on (rid, pid) so removing a resource's rows and probing one parameter of one resource (the
// non-driving filters of a search) are cheap. The (rid, pid) index costs little: a WITHOUT ROWID secondary
// index stores the primary key columns anyway. Values that carry a precision (dates) are stored as
// integer ranges [lo, hi] (epoch milliseconds, both inclusive).
import type { Migration } from '../db/types.ts';

export const searchIndexMigration: Migration = {
  version: 2,
  name: 'search index tables and patient/account compartments',
  up(db) {
    db.exec(`
      -- token and uri values; system '' = no system. uri values are stored with system ''.
      CREATE TABLE idx_token (
        pid INTEGER NOT NULL, code TEXT NOT NULL, system TEXT NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY (pid, code, system, rid)
      ) WITHOUT ROWID;
      CREATE INDEX idx_token_rid ON idx_token(rid, pid);

      -- strings: norm = lowercase, accents removed (for prefix and :contains); raw for :exact.
      CREATE TABLE idx_string (
        pid INTEGER NOT NULL, norm TEXT NOT NULL, rid INTEGER NOT NULL, raw TEXT NOT NULL,
        PRIMARY KEY (pid, norm, rid, raw)
      ) WITHOUT ROWID;
      CREATE INDEX idx_string_rid ON idx_string(rid, pid);

      -- references: 'Type/id' split in two so chains join resource(type, id); canonical and absolute
      -- references keep the whole URL in ref_id with ref_type ''.
      CREATE TABLE idx_ref (
        pid INTEGER NOT NULL, ref_id TEXT NOT NULL, ref_type TEXT NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY (pid, ref_id, ref_type, rid)
      ) WITHOUT ROWID;
      CREATE INDEX idx_ref_rid ON idx_ref(rid, pid);

      CREATE TABLE idx_date (
        pid INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY (pid, lo, hi, rid)
      ) WITHOUT ROWID;
      CREATE INDEX idx_date_rid ON idx_date(rid, pid);
      CREATE INDEX idx_date_hi ON idx_date(pid, hi);  -- gt/ge/eb bound the end of the range

      CREATE TABLE idx_number (
        pid INTEGER NOT NULL, value REAL NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY (pid, value, rid)
      ) WITHOUT ROWID;
      CREATE INDEX idx_number_rid ON idx_number(rid, pid);

      -- quantities: code is Quantity.code, unit is Quantity.unit (a search 'system|x' matches either).
      CREATE TABLE idx_quantity (
        pid INTEGER NOT NULL, value REAL NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, unit TEXT NOT NULL,
        rid INTEGER NOT NULL,
        PRIMARY KEY (pid, value, system, code, unit, rid)
      ) WITHOUT ROWID;
      CREATE INDEX idx_quantity_rid ON idx_quantity(rid, pid);

      -- composites: first component is a token (c1_system, c1_code), the second is one of token
      -- (v_system, v_code), quantity (v_num, v_system, v_code, v_unit), date (v_lo, v_hi), string (v_code = norm).
      CREATE TABLE idx_composite (
        pid INTEGER NOT NULL, c1_code TEXT NOT NULL, c1_system TEXT NOT NULL, rid INTEGER NOT NULL,
        k INTEGER NOT NULL,  -- row number within the resource and parameter (makes the key unique)
        v_system TEXT, v_code TEXT, v_unit TEXT, v_num REAL, v_lo INTEGER, v_hi INTEGER,
        PRIMARY KEY (pid, c1_code, c1_system, rid, k)
      ) WITHOUT ROWID;
      CREATE INDEX idx_composite_rid ON idx_composite(rid, pid);

      -- compartment memberships: Patient compartment (CompartmentDefinition), meta.account, meta.compartment.
      CREATE TABLE compartment (
        ref_id TEXT NOT NULL, ref_type TEXT NOT NULL, rid INTEGER NOT NULL,
        PRIMARY KEY (ref_id, ref_type, rid)
      ) WITHOUT ROWID;
      CREATE INDEX compartment_rid ON compartment(rid);
    `);
  },
};
