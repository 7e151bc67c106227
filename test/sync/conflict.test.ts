// Two workstations edit one resource offline, then push to the same remote: different fields merge,
// the same field becomes a conflict a person resolves; an edit of a resource deleted remotely is a
// conflict, never a silent re-create.
import type { Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listConflicts, outboxCounts } from '../../electron/host/sync/index.ts';
import { resolveConflict } from '../../electron/host/sync/conflicts/conflicts.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { remoteSearch, workstation, type Workstation } from './workstation.ts';

let server: TestFhirServer;
let a: Workstation;
let b: Workstation;
let sharedLocalA: string;
let remoteId: string;

beforeEach(async () => {
  server = await startFhirServer();
  a = workstation(server);
  b = workstation(server);
  // A creates the patient and pushes it; B receives it (as pull would): both now edit it offline.
  sharedLocalA = a.store.create<Patient>({ resourceType: 'Patient', name: [{ family: 'Shared' }], active: true }).resource.id as string;
  expect((await a.push()).pushed).toBe(1);
  remoteId = a.remoteIdOf('Patient', sharedLocalA) as string;
  b.receive(await server.repo.readResource<Patient>('Patient', remoteId));
});
afterEach(async () => {
  a.store.close();
  b.store.close();
  await server.close();
});

/** Resolutions as the workstation's own trusted writer (the host passes the resolving session's repository). */
const resolverOf = (w: Workstation) => ({ db: w.store.db, writer: w.store, outbox: w.outbox });
const edit = (w: Workstation, id: string, change: Partial<Patient>) => w.store.update<Patient>({ ...w.store.read<Patient>('Patient', id), ...change });
const onRemote = () => server.repo.readResource<Patient>('Patient', remoteId);

describe('two workstations, one resource', () => {
  it('different fields edited offline on both: both edits land, on the remote and on both sides locally', async () => {
    edit(a, sharedLocalA, { gender: 'female' });
    edit(b, remoteId, { birthDate: '1980-02-03' });
    expect((await a.push()).pushed).toBe(1);
    const second = await b.push();
    expect(second).toMatchObject({ pushed: 1, merged: 1, conflicts: 0 });
    const merged = await onRemote();
    expect(merged).toMatchObject({ gender: 'female', birthDate: '1980-02-03', active: true, name: [{ family: 'Shared' }] });
    // B's local copy holds the merged result; pushing again sends nothing new.
    expect(b.store.read<Patient>('Patient', remoteId)).toMatchObject({ gender: 'female', birthDate: '1980-02-03' });
    expect(outboxCounts(b.store.db)).toEqual({ pending: 0, held: 0, conflict: 0, quarantined: 0 });
    const before = server.requests.length;
    expect((await b.push()).pushed).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(await remoteSearch(server, 'Patient')).toHaveLength(1);
  });

  describe('the same field edited on both', () => {
    async function conflicted(): Promise<string> {
      edit(a, sharedLocalA, { gender: 'male', active: false });
      edit(b, remoteId, { gender: 'female', birthDate: '1990-01-01' });
      await a.push();
      const summary = await b.push();
      expect(summary).toMatchObject({ pushed: 0, conflicts: 1 });
      const [conflict] = listConflicts(b.store.db, 'p1');
      expect(conflict).toMatchObject({ resourceType: 'Patient', resourceId: remoteId, reason: 'edited-both', fields: ['gender'] });
      expect(conflict.remote).toMatchObject({ gender: 'male' });
      expect(conflict.local).toMatchObject({ gender: 'female' });
      expect(conflict.base).not.toHaveProperty('gender');
      return conflict.id;
    }

    it('is a conflict record; the remote stays as the first push left it until resolved, and is not retried', async () => {
      await conflicted();
      expect(await onRemote()).toMatchObject({ gender: 'male', active: false });
      expect((await onRemote()).birthDate).toBeUndefined();
      const before = server.requests.length;
      await b.push();
      expect(server.requests.length).toBe(before);
    });

    it('keep local: the local version is pushed over the version seen', async () => {
      const id = await conflicted();
      const seen = listConflicts(b.store.db)[0].remoteVersion;
      const resolved = resolveConflict(resolverOf(b), id, { keep: 'local' });
      expect(resolved).toMatchObject({ gender: 'female' });
      expect(await b.push()).toMatchObject({ pushed: 1, conflicts: 0 });
      expect(await onRemote()).toMatchObject({ gender: 'female', active: true, birthDate: '1990-01-01' });
      const put = server.requests.filter((r) => r.method === 'PUT').at(-1);
      expect(put?.headers['if-match']).toBe(`W/"${seen}"`);
      expect(listConflicts(b.store.db)).toEqual([]);
    });

    it('keep remote: the local copy becomes the remote version and nothing is pushed', async () => {
      const id = await conflicted();
      const remoteNow = await onRemote();
      resolveConflict(resolverOf(b), id, { keep: 'remote' });
      expect(b.store.read<Patient>('Patient', remoteId)).toMatchObject({ gender: 'male', active: false });
      expect(b.store.read<Patient>('Patient', remoteId).birthDate).toBeUndefined();
      const before = server.requests.length;
      expect((await b.push()).pushed).toBe(0);
      expect(server.requests.length).toBe(before);
      expect((await onRemote()).meta?.versionId).toBe(remoteNow.meta?.versionId);
    });

    it('merge by field: a chosen side per overlapping path, one-sided changes kept; an unchosen overlap is refused', async () => {
      const id = await conflicted();
      expect(() => resolveConflict(resolverOf(b), id, { keep: 'merge', fields: {} })).toThrow(/gender/);
      const merged = resolveConflict(resolverOf(b), id, { keep: 'merge', fields: { gender: 'local' } });
      // gender as chosen; A's active and B's birthDate (each changed on one side only) both kept.
      expect(merged).toMatchObject({ gender: 'female', active: false, birthDate: '1990-01-01' });
      expect(await b.push()).toMatchObject({ pushed: 1, conflicts: 0 });
      expect(await onRemote()).toMatchObject({ gender: 'female', active: false, birthDate: '1990-01-01' });
    });
  });

  it('an edit of a resource deleted remotely is a conflict, never a re-create; keep remote deletes it locally', async () => {
    a.store.delete('Patient', sharedLocalA);
    expect((await a.push()).pushed).toBe(1);
    edit(b, remoteId, { gender: 'other' });
    const summary = await b.push();
    expect(summary).toMatchObject({ pushed: 0, conflicts: 1 });
    const [conflict] = listConflicts(b.store.db);
    expect(conflict).toMatchObject({ reason: 'deleted-remotely', remote: null });
    expect(server.requests.filter((r) => r.method === 'POST' && r.inBatch && r.url === 'Patient')).toHaveLength(1);
    expect(await remoteSearch(server, 'Patient')).toHaveLength(0);
    await b.push();
    expect(await remoteSearch(server, 'Patient')).toHaveLength(0);
    expect(resolveConflict(resolverOf(b), conflict.id, { keep: 'remote' })).toBeNull();
    expect(() => b.store.read('Patient', remoteId)).toThrow();
    expect(b.outboxRows()).toEqual([]);
  });

  it('a local delete of a resource edited remotely is a conflict, the remote edit stays; keep local then deletes it', async () => {
    edit(a, sharedLocalA, { gender: 'female' });
    await a.push();
    b.store.delete('Patient', remoteId);
    expect(await b.push()).toMatchObject({ pushed: 0, conflicts: 1 });
    const [conflict] = listConflicts(b.store.db);
    expect(conflict).toMatchObject({ reason: 'deleted-locally', local: null, remote: { gender: 'female' } });
    expect((await onRemote()).gender).toBe('female');
    resolveConflict(resolverOf(b), conflict.id, { keep: 'local' });
    expect(await b.push()).toMatchObject({ pushed: 1, conflicts: 0 });
    await expect(onRemote()).rejects.toThrow();
  });

  it('a local delete of a resource nobody else changed lands without a conflict', async () => {
    b.store.delete('Patient', remoteId);
    expect(await b.push()).toMatchObject({ pushed: 1, conflicts: 0 });
    await expect(onRemote()).rejects.toThrow();
  });

  it('deleted remotely, keep local: created again on the remote as the person chose, under a new remote id', async () => {
    a.store.delete('Patient', sharedLocalA);
    await a.push();
    edit(b, remoteId, { gender: 'other' });
    await b.push();
    const [conflict] = listConflicts(b.store.db);
    resolveConflict(resolverOf(b), conflict.id, { keep: 'local' });
    expect(await b.push()).toMatchObject({ pushed: 1, conflicts: 0 });
    const all = await remoteSearch<Patient>(server, 'Patient');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ gender: 'other', name: [{ family: 'Shared' }] });
    expect(all[0].id).not.toBe(remoteId);
    expect(b.remoteIdOf('Patient', remoteId)).toBe(all[0].id);
  });
});
