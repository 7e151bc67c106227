// inTransaction is the transaction (or, nested, the savepoint) of every Bundle entry and enforced write:
// a failing entry must take back its own writes and nothing else.
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inTransaction } from '../../electron/host/db/transactions.ts';
import type { Db } from '../../electron/host/db/types.ts';

describe('inTransaction', () => {
  let db: Db;
  const rows = (): string[] => db.prepare('SELECT v FROM t ORDER BY v').pluck().all() as string[];
  const insert = (v: string): void => {
    db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
  };

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (v TEXT)');
  });
  afterEach(() => db.close());

  it('commits what the function wrote and returns its result', () => {
    expect(inTransaction(db, () => (insert('a'), 42))).toBe(42);
    expect(db.inTransaction).toBe(false);
    expect(rows()).toEqual(['a']);
  });

  it('rolls back and rethrows when the function throws', () => {
    expect(() =>
      inTransaction(db, () => {
        insert('a');
        throw new Error('entry failed');
      }),
    ).toThrow('entry failed');
    expect(db.inTransaction).toBe(false);
    expect(rows()).toEqual([]);
  });

  it('nested, takes back only the failing inner writes and keeps the outer ones', () => {
    inTransaction(db, () => {
      insert('outer-1');
      expect(() =>
        inTransaction(db, () => {
          insert('inner');
          throw new Error('inner failed');
        }),
      ).toThrow('inner failed');
      inTransaction(db, () => insert('inner-ok'));
      insert('outer-2');
    });
    expect(rows()).toEqual(['inner-ok', 'outer-1', 'outer-2']);
  });

  it('works on several connections at once, each with its own transaction', () => {
    const other = new Database(':memory:');
    other.exec('CREATE TABLE t (v TEXT)');
    inTransaction(db, () => {
      insert('here');
      inTransaction(other, () => other.prepare('INSERT INTO t (v) VALUES (?)').run('there'));
      expect(other.inTransaction).toBe(false);
    });
    expect(rows()).toEqual(['here']);
    expect(other.prepare('SELECT v FROM t').pluck().all()).toEqual(['there']);
    other.close();
  });
});
