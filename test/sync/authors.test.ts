// Who changed a record offline, as the remote sees it after a push: one local-author extension per
// person who edited it since the last push, oldest first, a person editing twice in a row named once.
// The demo clinic over loopback HTTP (each person signed in through Medplum's login flow), pushed to
// the loopback FHIR router.
import type { Patient, Practitioner } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIdMap } from '../../electron/host/sync/id-map.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';
import { LOCAL_AUTHOR_EXTENSION } from '../../electron/host/sync/provenance.ts';
import { createRemote } from '../../electron/host/sync/remote/remote.ts';
import { openDemoDoor, type DemoDoor, type DemoRole } from '../helpers/demo-door.ts';
import { startFhirServer, type TestFhirServer } from '../helpers/fhir-server.ts';
import { remoteSearch } from './workstation.ts';

let server: TestFhirServer;
let door: DemoDoor;

beforeEach(async () => {
  server = await startFhirServer();
  door = await openDemoDoor({ roles: ['admin', 'chen'] });
});
afterEach(async () => {
  await door.close();
  await server.close();
});

/** `who` changes Mary's phone number through the door (read, then PUT of what the role sees). */
async function edit(who: DemoRole, phone: string): Promise<void> {
  const read = await door.call(who, 'GET', `Patient/${door.ids.mary}`);
  expect(read.status).toBe(200);
  const updated = await door.call(who, 'PUT', `Patient/${door.ids.mary}`, { ...(read.body as Patient), telecom: [{ system: 'phone', value: phone }] });
  expect(updated.status).toBe(200);
}

/** The profile a role's session acts as (by the door's own answer), as the remote knows it after the push. */
async function remoteProfileOf(who: DemoRole): Promise<string> {
  const me = await door.call(who, 'GET', '/auth/me');
  const profile = me.body.profile as Practitioner;
  const remoteId = createIdMap(door.host.rawStore.db).remoteIdOf(profile.resourceType, profile.id as string);
  expect(remoteId).toBeDefined();
  return `${profile.resourceType}/${remoteId}`;
}

describe('local authors of pushed changes', () => {
  it('names every person who edited a record since the last push, oldest first, each run of edits by one person once', async () => {
    await edit('chen', '555-0101');
    await edit('chen', '555-0102');
    await edit('admin', '555-0103');
    await edit('chen', '555-0104');
    const remote = createRemote({ baseUrl: server.baseUrl, token: server.token });
    const pushed = await pushOutbox({ db: door.host.rawStore.db, remote });
    expect(pushed).toMatchObject({ held: 0, conflicts: 0 });

    const [mary] = (await remoteSearch<Patient>(server, 'Patient?phone=555-0104'));
    expect(mary?.telecom?.[0]?.value).toBe('555-0104');
    const authors = (mary.meta?.extension ?? [])
      .filter((e) => e.url === LOCAL_AUTHOR_EXTENSION)
      .map((e) => e.valueReference?.identifier?.value ?? e.valueReference?.reference);
    const chen = await remoteProfileOf('chen');
    const admin = await remoteProfileOf('admin');
    expect(chen).not.toBe(admin);
    // The seed's own writes came before any person's, and are the system's: the three runs of edits follow.
    expect(authors.slice(-3)).toEqual([chen, admin, chen]);
  });
});
