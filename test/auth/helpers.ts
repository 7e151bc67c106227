// A real store on ':memory:' with the auth migration, an injectable clock, recorded audit events, and a
// small clinic: one project, users with one or two memberships, a ClientApplication.
import type { WithId } from '@medplum/core';
import type { ClientApplication, Patient, Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { auditMigrations } from '../../electron/host/audit/schema.ts';
import { authMigrations } from '../../electron/host/auth/schema.ts';
import { createAuthService, type AuthServiceOptions } from '../../electron/host/auth/service.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import type { AuthAuditEvent, AuthService } from '../../electron/host/auth/types.ts';
import { createCredentials } from '../../electron/host/access/credentials.ts';
import { createStore } from '../../electron/host/store/index.ts';
import type { Store } from '../../electron/host/store/types.ts';
import bcrypt from 'bcryptjs';

export const PASSWORD = 'correct-horse-battery';
/** Hashed once per process: bcrypt at cost 10 takes ~100 ms. */
let passwordHash: string | undefined;
function hashOnce(): string {
  passwordHash ??= bcrypt.hashSync(PASSWORD, 10);
  return passwordHash;
}

export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const CHALLENGE = pkceChallenge(VERIFIER, 'S256');

export interface Clinic {
  project: WithId<Project>;
  otherProject: WithId<Project>;
  /** One membership (Practitioner). */
  nurse: { user: WithId<User>; membership: WithId<ProjectMembership>; profile: WithId<Practitioner> };
  /** Two memberships in the same project: Practitioner and Patient. */
  doctor: {
    user: WithId<User>;
    practitionerMembership: WithId<ProjectMembership>;
    patientMembership: WithId<ProjectMembership>;
    practitioner: WithId<Practitioner>;
    patient: WithId<Patient>;
  };
  client: { app: WithId<ClientApplication>; membership: WithId<ProjectMembership>; secret: string };
}

export interface TestAuth {
  store: Store;
  auth: AuthService;
  audit: AuthAuditEvent[];
  /** Moves the injected clock forward. */
  advance(ms: number): void;
  clinic: Clinic;
  close(): void;
}

/** `startAt`: the injected clock's start (a fixed date by default; real time for MedplumClient, which checks `exp`). */
export function createTestAuth(options: Partial<AuthServiceOptions> = {}, startAt = Date.parse('2026-03-01T09:00:00Z')): TestAuth {
  let now = startAt;
  const clock = (): Date => new Date(now);
  const store = createStore({ path: ':memory:', clock, migrations: [...authMigrations, ...auditMigrations] });
  const audit: AuthAuditEvent[] = [];
  const auth = createAuthService({ db: store.db, credentials: createCredentials(store), clock, audit: (e) => audit.push(e), ...options });
  const clinic = seedClinic(store, auth);
  return {
    store,
    auth,
    audit,
    advance: (ms) => {
      now += ms;
    },
    clinic,
    close: () => store.close(),
  };
}

function seedClinic(store: Store, auth: AuthService): Clinic {
  const project = store.create<Project>({ resourceType: 'Project', name: 'General Hospital' }).resource as WithId<Project>;
  const otherProject = store.create<Project>({ resourceType: 'Project', name: 'Other Clinic' }).resource as WithId<Project>;
  const ctx = { project: project.id };
  const create = <T extends import('@medplum/fhirtypes').Resource>(r: T): WithId<T> => store.create<T>(r, undefined, ctx).resource as WithId<T>;

  const nurseProfile = create<Practitioner>({ resourceType: 'Practitioner', name: [{ given: ['Jennifer'], family: 'Williams' }] });
  const nurseUser = create<User>({ resourceType: 'User', firstName: 'Jennifer', lastName: 'Williams', email: 'jennifer@example.org', passwordHash: hashOnce() });
  const nurseMembership = create<ProjectMembership>({
    resourceType: 'ProjectMembership',
    project: { reference: `Project/${project.id}` },
    user: { reference: `User/${nurseUser.id}` },
    profile: { reference: `Practitioner/${nurseProfile.id}`, display: 'Jennifer Williams' },
  });

  const practitioner = create<Practitioner>({ resourceType: 'Practitioner', name: [{ given: ['Sarah'], family: 'Chen' }] });
  const patient = create<Patient>({ resourceType: 'Patient', name: [{ given: ['Sarah'], family: 'Chen' }] });
  const doctorUser = create<User>({ resourceType: 'User', firstName: 'Sarah', lastName: 'Chen', email: 'Sarah.Chen@Example.org', passwordHash: hashOnce() });
  const practitionerMembership = create<ProjectMembership>({
    resourceType: 'ProjectMembership',
    project: { reference: `Project/${project.id}` },
    user: { reference: `User/${doctorUser.id}` },
    profile: { reference: `Practitioner/${practitioner.id}` },
  });
  const patientMembership = create<ProjectMembership>({
    resourceType: 'ProjectMembership',
    project: { reference: `Project/${project.id}` },
    user: { reference: `User/${doctorUser.id}` },
    profile: { reference: `Patient/${patient.id}` },
  });

  const app = create<ClientApplication>({ resourceType: 'ClientApplication', name: 'Lab interface' });
  const clientMembership = create<ProjectMembership>({
    resourceType: 'ProjectMembership',
    project: { reference: `Project/${project.id}` },
    user: { reference: `ClientApplication/${app.id}` },
    profile: { reference: `ClientApplication/${app.id}` },
  });
  const secret = auth.setClientSecret(app.id);

  return {
    project,
    otherProject,
    nurse: { user: nurseUser, membership: nurseMembership, profile: nurseProfile },
    doctor: { user: doctorUser, practitionerMembership, patientMembership, practitioner, patient },
    client: { app, membership: clientMembership, secret },
  };
}

/** The full password login of a one-membership user, returning the token response. */
export async function loginAs(t: TestAuth, email: string, membershipId?: string) {
  const started = await t.auth.login({ email, password: PASSWORD, codeChallenge: CHALLENGE, codeChallengeMethod: 'S256' });
  const code = started.code ?? t.auth.chooseProfile({ login: started.login, profile: membershipId ?? '' }).code;
  return t.auth.exchangeCode({ code: code ?? '', code_verifier: VERIFIER });
}
