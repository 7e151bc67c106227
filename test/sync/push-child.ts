// Child process of scenarios.test.ts: pushes the outbox of a store file and is killed (SIGKILL, by
// itself) right after the server answered the first batch, i.e. after the server committed and before
// the workstation recorded the answer. Args: <db file> <fhir base url> <token>.
import { createReplica } from '../../electron/host/access/index.ts';
import { createStore } from '../../electron/host/store/index.ts';
import { createOutbox, syncMigrations } from '../../electron/host/sync/index.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';
import { createRemote } from '../../electron/host/sync/remote/remote.ts';

const [file, baseUrl, token] = process.argv.slice(2);
const outbox = createOutbox();
const store = createStore({ path: file, defaultProject: 'p1', migrations: [...syncMigrations], onChange: outbox.onChange });
const killingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  await res.clone().text();
  if (init?.method === 'POST') {
    process.stdout.write('answered\n');
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined);
  }
  return res;
};
await pushOutbox({ db: store.db, remote: createRemote({ baseUrl, token, fetch: killingFetch }), store: createReplica(store), outbox });
process.stdout.write('not killed\n');
