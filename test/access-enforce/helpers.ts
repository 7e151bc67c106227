// A host on ':memory:' with one or two projects, people with memberships and policies, and real
// logins through the host's door (POST /auth/login, /auth/profile, /oauth2/token).
import type { AccessPolicy, Project, ProjectMembership, Resource, User } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { createHost, type Host } from '../../electron/host/host.ts';
import { loginThroughDoor } from '../helpers/door-login.ts';

export const PASSWORD = 'correct-horse-battery';
let hash: string | undefined;
const passwordHash = (): string => (hash ??= bcrypt.hashSync(PASSWORD, 4));

export interface Reply {
  status: number;
  body: any;
  text: string;
}

export interface TestClinic {
  host: Host;
  project: string;
  advance(ms: number): void;
  /** Writes as the trusted seed (raw store, in `project`). */
  seed(resource: Resource | ({ resourceType: string } & Record<string, unknown>), project?: string): any;
  newProject(name: string): string;
  policy(resource: AccessPolicy['resource'], project?: string): string;
  /** A user with one membership; returns its email and membership id. */
  person(name: string, membership: Partial<ProjectMembership>, project?: string, profileType?: string): Promise<{ email: string; membership: string; profile: string; user: string }>;
  /** A second membership for an existing user. */
  addMembership(user: string, membership: Partial<ProjectMembership>, project?: string, profileType?: string): { membership: string; profile: string };
  login(email: string, membership?: string, password?: string): Promise<string>;
  call(token: string | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): void;
}

/** `realClock`: tokens checked by MedplumClient (`exp`) need the real time. */
export function createClinic(options: { audit?: boolean; realClock?: boolean; dataDir?: string } = {}): TestClinic {
  let now = options.realClock ? Date.now() : Date.parse('2026-03-01T09:00:00Z');
  let offset = 0;
  const clock = options.realClock ? () => new Date(Date.now() + offset) : () => new Date(now);
  const host = createHost({ dataDir: options.dataDir ?? ':memory:', clock, audit: options.audit });
  const seed = (resource: Resource | ({ resourceType: string } & Record<string, unknown>), project?: string) =>
    host.rawStore.create(resource as Resource, undefined, { project: project ?? clinic.project }).resource as Resource & { id: string };
  // A Project belongs to itself (Medplum: Project.meta.project is its own id), as setup and sync write it.
  const newProject = (name: string): string => {
    const id = randomUUID();
    host.rawStore.update<Project>({ resourceType: 'Project', id, name }, undefined, { project: id });
    return id;
  };
  let n = 0;

  async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await host.handle({
      method: method as 'GET',
      path: path.startsWith('/') ? path : `/fhir/R4/${path}`,
      headers: { ...(text !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: text,
    });
    return { status: res.status, body: res.body, text: JSON.stringify(res.body ?? null) };
  }

  function addMembership(user: string, membership: Partial<ProjectMembership>, project?: string, profileType = 'Practitioner') {
    const p = project ?? clinic.project;
    const profile = membership.profile?.reference ?? `${profileType}/${seed({ resourceType: profileType, name: [{ family: `Profile${++n}` }] } as Resource, p).id}`;
    const m = seed(
      { resourceType: 'ProjectMembership', project: { reference: `Project/${p}` }, user: { reference: `User/${user}` }, profile: { reference: profile }, ...membership } as ProjectMembership,
      p,
    );
    return { membership: m.id, profile };
  }

  const clinic: TestClinic = {
    host,
    project: '',
    advance: (ms) => {
      now += ms;
      offset += ms;
    },
    seed,
    newProject,
    policy: (resource, project) => seed({ resourceType: 'AccessPolicy', name: `policy ${++n}`, resource }, project).id,
    async person(name, membership, project, profileType) {
      const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${++n}@example.org`;
      const user = seed({ resourceType: 'User', firstName: name, lastName: 'Test', email, passwordHash: passwordHash() } satisfies User, project);
      const m = addMembership(user.id, membership, project, profileType);
      return { email, user: user.id, ...m };
    },
    addMembership,
    login: (email, membership, password = PASSWORD) => loginThroughDoor(host, email, password, () => membership),
    call,
    close: () => host.close(),
  };
  clinic.project = newProject('General Hospital');
  return clinic;
}

export const patient = (family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', name: [{ given: ['Ann'], family }], ...extra });
