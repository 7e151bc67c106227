// A workstation for the Medplum tests: a host on its own encrypted data folder reached through its door
// (first-run setup, the admin's session), with the tenant's sync client configured as its remote.
import type { Resource } from '@medplum/fhirtypes';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import type { SyncRunSummary } from '../../shared/contract/sync.ts';
import { OUTPOST_ID_SYSTEM } from '../../electron/host/sync/references.ts';
import { door, type Door } from '../admin/helpers.ts';
import { tempDir } from '../host/helpers.ts';
import type { Tenant } from './kit.ts';

export interface MedplumWorkstation extends Door {
  dataDir: string;
  projectId: string;
  admin: string;
  /** One sync run through the door (POST outpost/sync/run) as the admin. */
  sync(body?: { pullOnly?: boolean; pushOnly?: boolean; tenant?: boolean }): Promise<SyncRunSummary>;
  /** A FHIR request as the admin (path after /fhir/R4/). */
  fhir(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  remoteIdOf(type: string, localId: string): string | undefined;
  close(): void;
}

/** First-run setup on a new folder, then the tenant's client as the project's remote. */
export async function medplumWorkstation(tenant: Tenant, label: string): Promise<MedplumWorkstation> {
  const dataDir = tempDir(`outpost-medplum-${label}-`);
  const d = door(createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) }));
  const owner = { projectName: `Clinic ${label}`, firstName: 'Olga', lastName: 'Owner', email: `owner-${label}@clinic.example.org`, password: 'owner-pass-1' };
  const setup = await d.call(undefined, 'POST', '/outpost/setup', owner);
  if (setup.status !== 201) throw new Error(`setup ${setup.status}: ${JSON.stringify(setup.body)}`);
  const admin = await d.login(owner.email, owner.password);
  const remote = await d.call(admin, 'PUT', '/outpost/sync/remote', { baseUrl: tenant.env.fhirUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret });
  if (remote.status !== 200) throw new Error(`remote ${remote.status}: ${JSON.stringify(remote.body)}`);
  return {
    ...d,
    dataDir,
    projectId: setup.body.project.id as string,
    admin,
    async sync(body = {}) {
      const res = await d.call(admin, 'POST', '/outpost/sync/run', body);
      if (res.status !== 200) throw new Error(`sync ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as SyncRunSummary;
    },
    fhir: (method, path, body) => d.call(admin, method, `/fhir/R4/${path}`, body),
    remoteIdOf: (type, localId) =>
      d.host.rawStore.db.prepare<[string, string], string>('SELECT remote_id FROM sync_id_map WHERE type = ? AND local_id = ?').pluck().get(type, localId),
    close: () => d.host.close(),
  };
}

/** The local id a remote copy was pushed from (its Outpost identifier or tag). */
export function outpostIdOf(resource: Resource): string | undefined {
  const identifiers = (resource as { identifier?: { system?: string; value?: string }[] }).identifier ?? [];
  return identifiers.find((i) => i.system === OUTPOST_ID_SYSTEM)?.value ?? resource.meta?.tag?.find((t) => t.system === OUTPOST_ID_SYSTEM)?.code;
}

/** Remote copies per Outpost local id: a duplicate shows as a count above 1. */
export function copiesByLocalId(resources: Resource[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of resources) {
    const id = outpostIdOf(r);
    if (id) out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}
