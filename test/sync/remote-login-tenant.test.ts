// The field-clinic story end to end: `outpost sync --tenant` bootstraps an empty data folder from the
// remote (users come without passwords), then a pulled nurse signs in with the remote's password check
// and, once the host keeps the verifier, again with the remote gone.
import { Writable } from 'node:stream';
import type { Patient, Practitioner, Project, ProjectMembership, User } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../electron/host/cli/main.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/store/index.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { createMedplumAuth } from '../helpers/medplum-auth.ts';
import { tempDir } from '../host/helpers.ts';

let server: PagingFhirServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (write(String(chunk)), cb()) }) as unknown as NodeJS.WriteStream;
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

describe('tenant bootstrap, then remote login', () => {
  it('outpost sync --tenant fills an empty folder; the pulled nurse signs in through the remote, then offline', async () => {
    const auth = createMedplumAuth({ users: [{ email: 'nat@example.org', password: 'nat-remote-pw' }] });
    server = await startPagingFhirServer(auth);
    const project = { reference: 'Project/remote-proj' };
    server.seed([
      { resourceType: 'Project', id: 'remote-proj', name: 'Clinic North' } as Project,
      { resourceType: 'User', id: 'u-nurse', firstName: 'Nat', lastName: 'Nurse', email: 'nat@example.org', project, passwordHash: '$2a$10$abcdefghijkl' } as User,
      { resourceType: 'Practitioner', id: 'pr-nurse', name: [{ family: 'Nurse' }] } as Practitioner,
      { resourceType: 'ProjectMembership', id: 'pm-nurse', project, user: { reference: 'User/u-nurse' }, profile: { reference: 'Practitioner/pr-nurse' }, admin: true } as ProjectMembership,
      { resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Field' }] } as Patient,
    ]);
    const dataDir = tempDir('outpost-tenant-');
    const run = await cli(['sync', '--data', dataDir, '--remote', server.baseUrl, '--token', server.token, '--tenant', '--pull-only', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).pulled).toBeGreaterThanOrEqual(5);

    const host = createHost({ dataDir, key: readOrCreateDatabaseKey(dataDir) });
    try {
      host.sync.config.set(DEFAULT_PROJECT_ID, { baseUrl: server.baseUrl, token: server.token });
      const login = async (password: string) =>
        (await host.handle({ method: 'POST', path: '/auth/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nat@example.org', password, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }) })).status;
      expect(await login('nat-remote-pw')).toBe(200);
      expect(auth.calls.map((c) => c.path)).toEqual(['/auth/login', '/oauth2/token']);
      await server.close();
      server = undefined;
      expect(await login('nat-remote-pw')).toBe(200);
      expect(await login('wrong-password')).toBe(400);
    } finally {
      host.close();
    }
  });
});
