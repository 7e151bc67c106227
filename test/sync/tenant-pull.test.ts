// Tenant pull: an empty workstation bootstraps a whole project (Project, policies, users without
// secrets, profiles, memberships, clinical data) with progress against the remote's totals.
import { createReplica } from '../../electron/host/access/index.ts';
import type { AccessPolicy, ClientApplication, Observation, Patient, Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listWatermarks } from '../../electron/host/sync/pull/pull-state.ts';
import type { PullProgress } from '../../electron/host/sync/pull/pull.ts';
import { pullProject } from '../../electron/host/sync/pull/pull.ts';
import { tenantPull, TENANT_ADMIN_TYPES } from '../../electron/host/sync/pull/tenant-pull.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { clinicalData, countLive, openLocal, PROJECT, remoteOf, type Local } from './pull-helpers.ts';

let server: PagingFhirServer;
let local: Local;

beforeEach(async () => {
  server = await startPagingFhirServer();
  local = openLocal();
});
afterEach(async () => {
  local.store.close();
  await server.close();
});

function seedTenant(): void {
  const project = { reference: 'Project/remote-proj' };
  server.seed([
    { resourceType: 'Project', id: 'remote-proj', name: 'Clinic North', owner: { reference: 'User/u-admin' } } as Project,
    { resourceType: 'AccessPolicy', id: 'ap-nurse', name: 'Nurse', resource: [{ resourceType: 'Patient' }, { resourceType: 'Observation' }] } as AccessPolicy,
    { resourceType: 'User', id: 'u-admin', firstName: 'Ada', lastName: 'Admin', email: 'ada@example.org', project, passwordHash: '$2a$10$abcdefghijkl', mfaSecret: 'JBSWY3DP' } as User,
    { resourceType: 'User', id: 'u-nurse', firstName: 'Nat', lastName: 'Nurse', email: 'nat@example.org', project } as User,
    { resourceType: 'Practitioner', id: 'pr-admin', name: [{ family: 'Admin' }] } as Practitioner,
    { resourceType: 'Practitioner', id: 'pr-nurse', name: [{ family: 'Nurse' }] } as Practitioner,
    { resourceType: 'ClientApplication', id: 'ca-1', name: 'Lab feed', secret: 'top-secret-value' } as ClientApplication,
    { resourceType: 'ProjectMembership', id: 'pm-admin', project, user: { reference: 'User/u-admin' }, profile: { reference: 'Practitioner/pr-admin' }, admin: true } as ProjectMembership,
    {
      resourceType: 'ProjectMembership',
      id: 'pm-nurse',
      project,
      user: { reference: 'User/u-nurse' },
      profile: { reference: 'Practitioner/pr-nurse' },
      accessPolicy: { reference: 'AccessPolicy/ap-nurse' },
    } as ProjectMembership,
  ]);
  server.seed(clinicalData(10, 12));
}

/** Types outside the built-in lists: a Questionnaire the remote has (brought), its AuditEvents (never). */
function seedOthers(): void {
  server.seed([
    { resourceType: 'Questionnaire', id: 'q-intake', status: 'active', title: 'Intake' },
    { resourceType: 'AuditEvent', id: 'ae-1', type: { code: 'rest' }, recorded: '2024-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'remote' } } },
  ] as never);
}

describe('tenant pull', () => {
  it('bootstraps a whole project on an empty workstation, users without secrets, the Project under the local id', async () => {
    seedTenant();
    seedOthers();
    const progress: PullProgress[] = [];
    const summary = await tenantPull({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25, onProgress: (p) => progress.push(p) });
    expect(summary).toMatchObject({ pulled: 140, total: 140, errors: [], failed: 0 });
    // A type only the remote's CapabilityStatement named is brought too; the remote's audit trail is not.
    expect(local.store.read('Questionnaire', 'q-intake')).toMatchObject({ title: 'Intake' });
    expect(countLive(local.store, 'AuditEvent')).toBe(0);
    // Project, policies, memberships, profiles, clinical data.
    const project = local.store.read<Project>('Project', PROJECT, { project: PROJECT });
    expect(project.name).toBe('Clinic North');
    expect(() => local.store.read('Project', 'remote-proj')).toThrow();
    const nurse = local.store.read<ProjectMembership>('ProjectMembership', 'pm-nurse');
    expect(nurse.project?.reference).toBe(`Project/${PROJECT}`);
    expect(nurse.accessPolicy?.reference).toBe('AccessPolicy/ap-nurse');
    expect(local.store.read<AccessPolicy>('AccessPolicy', 'ap-nurse').name).toBe('Nurse');
    expect(countLive(local.store, 'Observation')).toBe(120);
    expect(local.store.read<Observation>('Observation', 'r-obs-9-11').subject?.reference).toBe('Patient/r-pat-9');
    expect(local.store.read<Patient>('Patient', 'r-pat-0').meta?.project).toBe(PROJECT);
    // No secret is stored.
    const users = local.store.db.prepare("SELECT content FROM resource WHERE type IN ('User', 'ClientApplication')").pluck().all() as string[];
    expect(users).toHaveLength(3);
    expect(JSON.parse(users.find((u) => u.includes('u-admin')) as string)).toMatchObject({ email: 'ada@example.org', project: { reference: `Project/${PROJECT}` } });
    for (const text of users) {
      expect(text).not.toMatch(/passwordHash|mfaSecret|top-secret-value|"secret"/);
    }
    // Nothing pulled is a local change to push back.
    expect(local.store.db.prepare('SELECT count(*) FROM sync_outbox').pluck().get()).toBe(0);
    // Progress: against the remote's total, never going back, ending at the total.
    const tenant = progress.filter((p) => p.phase === 'tenant');
    expect(tenant.every((p) => p.total === 140)).toBe(true);
    expect(tenant.map((p) => p.done)).toEqual([...tenant.map((p) => p.done)].sort((a, b) => a - b));
    expect(tenant.at(-1)?.done).toBe(140);
    expect(tenant.length).toBeGreaterThan(6);
    // Every type is marked finished.
    const marks = listWatermarks(local.store.db, PROJECT).filter((w) => w.bootstrapped);
    expect(marks.map((w) => w.type)).toEqual(expect.arrayContaining([...TENANT_ADMIN_TYPES, 'Observation']));
  });

  it('run again after it finished: nothing is read twice in full, nothing written', async () => {
    seedTenant();
    await tenantPull({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25 });
    server.syncSearches.length = 0;
    const again = await tenantPull({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25 });
    expect(again.pulled).toBe(0);
    expect(again.resumedTypes).toEqual(expect.arrayContaining(['Observation', 'User']));
    // Only the Project lookup that maps the remote project to the local one (and the type discovery).
    expect(server.syncSearches).toEqual(['Project?_count=2']);
  });

  it("the sync credential loses its admin rights: the workstation's members, users, policies and its Project are kept, clinical data it can no longer read is purged", async () => {
    seedTenant();
    await tenantPull({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25 });
    server.revoke(['Project', 'ProjectMembership', 'User', 'ClientApplication', 'AccessPolicy', 'Observation']);
    const summary = await pullProject({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25 });
    expect(summary.purged).toBe(120);
    expect(countLive(local.store, 'Observation')).toBe(0);
    expect(countLive(local.store, 'ProjectMembership')).toBe(2);
    expect(countLive(local.store, 'User')).toBe(2);
    expect(countLive(local.store, 'AccessPolicy')).toBe(1);
    expect(local.store.read<Project>('Project', PROJECT, { project: PROJECT }).name).toBe('Clinic North');
    // Deleted remotely (not a matter of access): the Project stays, a membership goes.
    server.unrevoke(['Project', 'ProjectMembership']);
    server.deleteRemote('Project', 'remote-proj');
    server.deleteRemote('ProjectMembership', 'pm-nurse');
    await pullProject({ db: local.store.db, store: createReplica(local.store), outbox: local.outbox, remote: remoteOf(server), project: PROJECT, pageSize: 25, types: ['Project', 'ProjectMembership'] });
    expect(local.store.read<Project>('Project', PROJECT, { project: PROJECT }).name).toBe('Clinic North');
    expect(countLive(local.store, 'ProjectMembership')).toBe(1);
  });
});
