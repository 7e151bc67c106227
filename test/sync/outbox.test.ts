// The outbox on real SQLite: one squashed row per locally changed resource, written in the change's
// own transaction, nothing for sync's own (remote) writes or excluded types.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../../electron/host/store/index.ts';
import { createOutbox, dueRows, outboxCounts, squash, syncMigrations, type Outbox, type OutboxRow } from '../../electron/host/sync/index.ts';

const dirs: string[] = [];
let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function open(file?: string): { store: Store; outbox: Outbox; file: string } {
  const f = file ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-outbox-')), 'outpost.db');
  if (!file) dirs.push(path.dirname(f));
  const outbox = createOutbox();
  store = createStore({ path: f, defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
  return { store, outbox, file: f };
}

function rows(s: Store): Pick<OutboxRow, 'type' | 'id' | 'op' | 'version'>[] {
  return s.db.prepare('SELECT type, id, op, version FROM sync_outbox ORDER BY seq').all() as OutboxRow[];
}

function mapRemote(s: Store, type: string, localId: string, remoteId = localId): void {
  s.db.prepare('INSERT INTO sync_id_map (type, local_id, remote_id, remote_version) VALUES (?, ?, ?, ?)').run(type, localId, remoteId, 'v1');
}

const patient: Patient = { resourceType: 'Patient', name: [{ family: 'Outbox' }] };

describe('squash rules', () => {
  it('create+update = create, create+delete = nothing, update+update = update, update+delete = delete, delete+update = update', () => {
    expect(squash('create', 'update', true)).toBe('create');
    expect(squash('create', 'delete', true)).toBeUndefined();
    expect(squash('update', 'update', true)).toBe('update');
    expect(squash('update', 'delete', true)).toBe('delete');
    expect(squash('delete', 'update', true)).toBe('update');
    expect(squash(undefined, 'update', false)).toBe('create');
    expect(squash(undefined, 'delete', false)).toBeUndefined();
    expect(squash(undefined, 'update', true)).toBe('update');
  });
});

describe('outbox', () => {
  it('a local create, then edits, is one create row carrying the newest version; create then delete leaves nothing', () => {
    const { store } = open();
    const a = store.create(patient).resource;
    store.update({ ...a, gender: 'female' });
    store.update({ ...a, gender: 'male' });
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'create', version: 3 }]);
    const b = store.create(patient).resource;
    store.delete('Patient', b.id as string);
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'create', version: 3 }]);
  });

  it('a resource the remote has: updates merge into one update, a delete replaces them', () => {
    const { store, outbox } = open();
    const a = outbox.remote(() => store!.create(patient).resource);
    mapRemote(store, 'Patient', a.id as string, 'remote-a');
    expect(rows(store)).toEqual([]);
    store.update({ ...a, gender: 'female' });
    store.update({ ...a, gender: 'other' });
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'update', version: 3 }]);
    store.delete('Patient', a.id as string);
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'delete', version: 4 }]);
    store.update({ ...a, gender: 'male' });
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'update', version: 5 }]);
  });

  it('a create already attempted, then deleted, becomes a delete (the remote may have committed it)', () => {
    const { store } = open();
    const a = store.create(patient).resource;
    store.db.prepare('UPDATE sync_outbox SET attempts = 1').run();
    store.delete('Patient', a.id as string);
    expect(rows(store)).toEqual([{ type: 'Patient', id: a.id, op: 'delete', version: 2 }]);
  });

  it('records nothing for excluded types (AuditEvent has its own outbox) nor for writes of sync itself', () => {
    const { store, outbox } = open();
    store.create({ resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } });
    outbox.remote(() => store!.create(patient));
    expect(rows(store)).toEqual([]);
  });

  it('a rolled-back write leaves no outbox row; a transaction Bundle records each entry in order', () => {
    const { store } = open();
    const bad: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 42 } as unknown as Patient, request: { method: 'POST', url: 'Patient' } },
      ],
    };
    expect(() => store.processBundle(bad)).toThrow();
    expect(rows(store)).toEqual([]);
    const good: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:7d0a3a8e-52f4-4c8e-9a63-0b1d9f0e6c21', resource: patient, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:7d0a3a8e-52f4-4c8e-9a63-0b1d9f0e6c21' } },
          request: { method: 'POST', url: 'Encounter' },
        },
      ],
    };
    store.processBundle(good);
    expect(rows(store).map((r) => `${r.op} ${r.type}`)).toEqual(['create Patient', 'create Encounter']);
  });

  it('a held row goes back to pending on a new local change; a conflict stays a conflict; due rows honour backoff', () => {
    const { store } = open();
    const a = store.create(patient).resource;
    const b = store.create(patient).resource;
    const c = store.create(patient).resource;
    store.db.prepare("UPDATE sync_outbox SET state = 'held', last_error = 'invalid' WHERE id = ?").run(a.id);
    store.db.prepare("UPDATE sync_outbox SET state = 'conflict' WHERE id = ?").run(b.id);
    store.db.prepare('UPDATE sync_outbox SET next_attempt_at = 5000 WHERE id = ?').run(c.id);
    expect(outboxCounts(store.db)).toEqual({ pending: 1, held: 1, conflict: 1, quarantined: 0 });
    expect(dueRows(store.db, 1000)).toEqual([]);
    expect(dueRows(store.db, 5000).map((r) => r.id)).toEqual([c.id]);
    store.update({ ...a, gender: 'female' });
    store.update({ ...b, gender: 'female' });
    expect(outboxCounts(store.db)).toEqual({ pending: 2, held: 0, conflict: 1, quarantined: 0 });
    expect(dueRows(store.db, 1000).map((r) => r.id)).toEqual([a.id]);
  });

  it('survives closing and reopening the file (migration 31 recorded once)', () => {
    const first = open();
    const a = first.store.create(patient).resource;
    first.store.close();
    const again = open(first.file);
    expect(rows(again.store)).toEqual([{ type: 'Patient', id: a.id, op: 'create', version: 1 }]);
    expect(again.store.db.prepare('SELECT name FROM schema_migration WHERE version = 31').get()).toEqual({ name: 'sync outbox and id map' });
  });
});
