// The db floor's lookups, each held to its index with EXPLAIN QUERY PLAN on a real store file: a
// lookup that turns into a scan of `resource` is a regression at 200,000 resources even when it still
// answers right. Each test also checks the answer, on data shaped like a clinic's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessPolicyIn, accessStamp, membershipsOfProject, membershipsOfUser, usersByEmail } from '../../electron/host/db/identities.ts';
import {
  anyProjectOrUser,
  liveProjects,
  liveResource,
  patientCompartments,
  resourceRow,
  resourceRowByRid,
  ridOf,
  rowSatisfies,
  storedProject,
  typesInProject,
} from '../../electron/host/db/resources.ts';
import type { Db } from '../../electron/host/db/types.ts';
import { authMigrations } from '../../electron/host/auth/schema.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/types.ts';

let dir: string;
let store: Store;
let db: Db;
const P = 'project-a';

/** Every statement a lookup runs (statements are cached per connection, so they are caught when run), with its parameters. */
function captured(run: () => unknown): { sql: string; params: unknown[] }[] {
  const seen: { sql: string; params: unknown[] }[] = [];
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<'get' | 'all', (...p: unknown[]) => unknown>;
  const originals = { get: proto.get, all: proto.all };
  for (const method of ['get', 'all'] as const) {
    proto[method] = function (this: { source: string }, ...params: unknown[]) {
      seen.push({ sql: this.source, params });
      return originals[method].apply(this, params);
    };
  }
  try {
    run();
  } finally {
    Object.assign(proto, originals);
  }
  return seen;
}

/** The query plan's lines of the statements a lookup runs. */
function plan(run: () => unknown): string[] {
  const statements = captured(run);
  expect(statements.length).toBeGreaterThan(0);
  return statements.flatMap(({ sql, params }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail),
  );
}

/** No line reads the whole `resource` table (or its compartment rows) row by row. */
function expectNoScan(lines: string[]): void {
  const scans = lines.filter((l) => /^SCAN (resource|r|compartment)\b/.test(l) && !/USING (COVERING )?INDEX/.test(l));
  expect(scans, lines.join('\n')).toEqual([]);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'outpost-db-queries-'));
  store = createStore({ path: path.join(dir, 'outpost.db'), migrations: [...authMigrations] });
  db = store.db;
  const create = (r: Resource, project = P) => store.create(r, undefined, { project }).resource as Resource & { id: string };
  // Enough rows that a scan and a seek differ in the planner's eyes.
  const bundle = { resourceType: 'Bundle' as const, type: 'transaction' as const, entry: [] as { resource: Resource; request: { method: 'POST'; url: string } }[] };
  for (let i = 0; i < 400; i++) {
    bundle.entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { text: 'hr' }, subject: { reference: `Patient/p${i % 40}` } } as Resource, request: { method: 'POST', url: 'Observation' } });
  }
  store.processBundle(bundle, { project: P });
  store.update({ resourceType: 'Project', id: P, name: 'Clinic A' } as Resource, undefined, { project: P });
  for (let i = 0; i < 30; i++) {
    const user = create({ resourceType: 'User', email: `person${i}@example.org`, firstName: 'P', lastName: `${i}` } as Resource);
    create({ resourceType: 'ProjectMembership', project: { reference: `Project/${P}` }, user: { reference: `User/${user.id}` }, profile: { reference: `Practitioner/x${i}` } } as Resource);
  }
  store.update({ resourceType: 'AccessPolicy', id: 'ap', resource: [{ resourceType: 'Patient' }] } as Resource, undefined, { project: P });
  db.exec('ANALYZE');
});
afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('db floor lookups use their indexes', () => {
  it('users by email: the lower(email) expression index', () => {
    expect(usersByEmail(db, ' Person7@Example.org ').map((u) => u.email)).toEqual(['person7@example.org']);
    const lines = plan(() => usersByEmail(db, 'person7@example.org'));
    expect(lines.join('\n')).toMatch(/auth_user_email/);
    expectNoScan(lines);
  });

  it('memberships of a user: the membership user index', () => {
    const user = usersByEmail(db, 'person3@example.org')[0];
    expect(membershipsOfUser(db, `User/${user.id}`).map((m) => m.profile?.reference)).toEqual(['Practitioner/x3']);
    expect(membershipsOfUser(db, `User/${user.id}`, 'elsewhere')).toEqual([]);
    const lines = plan(() => membershipsOfUser(db, `User/${user.id}`, P));
    expect(lines.join('\n')).toMatch(/auth_membership_user/);
    expectNoScan(lines);
  });

  it('memberships of a project, one membership, a policy and the access stamp: the (type, id) key', () => {
    const all = membershipsOfProject(db, P);
    expect(all).toHaveLength(30);
    expect(membershipsOfProject(db, P, all[4].id).map((m) => m.id)).toEqual([all[4].id]);
    expect(accessPolicyIn(db, P, 'ap')?.id).toBe('ap');
    expect(accessPolicyIn(db, 'elsewhere', 'ap')).toBeUndefined();
    expect(accessStamp(db, P)).toMatch(/^\d+:\d+:\d+$/);
    for (const run of [() => membershipsOfProject(db, P), () => membershipsOfProject(db, P, all[4].id), () => accessPolicyIn(db, P, 'ap'), () => accessStamp(db, P)]) {
      const lines = plan(run);
      expect(lines.join('\n')).toMatch(/resource_type_id|resource_type_updated/);
      expectNoScan(lines);
    }
  });

  it('rows by identity and rid, live content, project and rid of a resource', () => {
    const row = resourceRow(db, 'AccessPolicy', 'ap')!;
    expect(row).toMatchObject({ type: 'AccessPolicy', id: 'ap', project: P, deleted: 0 });
    expect(resourceRowByRid(db, row.rid)?.id).toBe('ap');
    expect(ridOf(db, 'AccessPolicy', 'ap')).toBe(row.rid);
    expect(storedProject(db, 'AccessPolicy', 'ap')).toBe(P);
    expect(liveResource<{ id: string }>(db, 'AccessPolicy', 'ap', P)?.id).toBe('ap');
    expect(liveResource(db, 'AccessPolicy', 'ap', 'elsewhere')).toBeUndefined();
    for (const run of [
      () => resourceRow(db, 'AccessPolicy', 'ap'),
      () => resourceRowByRid(db, row.rid),
      () => ridOf(db, 'AccessPolicy', 'ap'),
      () => storedProject(db, 'AccessPolicy', 'ap'),
      () => liveResource(db, 'AccessPolicy', 'ap', P),
    ]) {
      const lines = plan(run);
      expect(lines.join('\n')).toMatch(/resource_type_id|INTEGER PRIMARY KEY/);
      expectNoScan(lines);
    }
  });

  it('patient compartments of a row: the compartment rid index', () => {
    const rid = db.prepare("SELECT rid FROM resource WHERE type = 'Observation' LIMIT 1").pluck().get() as number;
    expect(patientCompartments(db, rid)).toHaveLength(1);
    const lines = plan(() => patientCompartments(db, rid));
    expect(lines.join('\n')).toMatch(/compartment_rid/);
    expectNoScan(lines);
  });

  it('a row against an access fragment: one row by its key', () => {
    const rid = ridOf(db, 'AccessPolicy', 'ap')!;
    expect(rowSatisfies(db, rid, { sql: 'r.project = ?', params: [P] })).toBe(true);
    expect(rowSatisfies(db, rid, { sql: 'r.project = ?', params: ['elsewhere'] })).toBe(false);
    expectNoScan(plan(() => rowSatisfies(db, rid, { sql: 'r.project = ?', params: [P] })));
  });

  it('types of a project: one seek per type, not a pass over every row', () => {
    expect(typesInProject(db, P)).toEqual(['AccessPolicy', 'Observation', 'Project', 'ProjectMembership', 'User']);
    expect(typesInProject(db, 'elsewhere')).toEqual([]);
    const lines = plan(() => typesInProject(db, P, { live: true }));
    expectNoScan(lines);
    expect(lines.join('\n')).toMatch(/resource_type_id|resource_type_updated/);
  });

  it('the first-run check and the project list', () => {
    expect(anyProjectOrUser(db)).toBe(true);
    expect(liveProjects(db)).toEqual([{ id: P, name: 'Clinic A' }]);
    expectNoScan(plan(() => anyProjectOrUser(db)));
    expectNoScan(plan(() => liveProjects(db)));
  });
});
