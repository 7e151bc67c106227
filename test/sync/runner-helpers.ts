// Shared by the runner/config/remote-login tests: a host on a data folder reached through its door, its
// first project and admin (first-run setup), and members invited with a policy (or without a password).
import { door, type Door } from '../admin/helpers.ts';
import { createHost, type HostOptions } from '../../electron/host/host.ts';
import { tempDir } from '../host/helpers.ts';

export const ADMIN = { projectName: 'Hill Clinic', firstName: 'Ada', lastName: 'Admin', email: 'ada@example.org', password: 'admin-pass-1' };

export interface Clinic extends Door {
  projectId: string;
  admin: string;
  dataDir: string;
  /** Invites a Practitioner with an AccessPolicy of these resource entries (no password: a pulled-like User). */
  invite(email: string, resources: Record<string, unknown>[], password?: string): Promise<void>;
}

export async function clinic(options: Partial<HostOptions> = {}): Promise<Clinic> {
  const dataDir = options.dataDir ?? tempDir('outpost-sync-');
  const d = door(createHost({ ...options, dataDir }));
  const setup = await d.call(undefined, 'POST', '/outpost/setup', ADMIN);
  if (setup.status !== 201) throw new Error(`setup ${setup.status}: ${JSON.stringify(setup.body)}`);
  const projectId = setup.body.project.id as string;
  const admin = await d.login(ADMIN.email, ADMIN.password);
  return {
    ...d,
    projectId,
    admin,
    dataDir,
    async invite(email, resources, password) {
      const policy = await d.call(admin, 'POST', '/fhir/R4/AccessPolicy', { resourceType: 'AccessPolicy', name: `policy of ${email}`, resource: resources });
      const res = await d.call(admin, 'POST', `/admin/projects/${projectId}/invite`, {
        resourceType: 'Practitioner', firstName: 'Mem', lastName: 'Ber', email, ...(password ? { password } : {}),
        membership: { accessPolicy: { reference: `AccessPolicy/${policy.body.id}` } },
      });
      if (res.status !== 200) throw new Error(`invite ${res.status}: ${JSON.stringify(res.body)}`);
    },
  };
}
