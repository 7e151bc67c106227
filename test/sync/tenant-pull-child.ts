// Child process of tenant-pull-kill.test.ts: bootstraps a project from the remote into a store file
// until done (or killed). argv: <db file> <remote base url> <token> <page size>.
// Prints "ready" once the store is open, "progress <done> <total>" after each committed page, and
// "done <json summary>" at the end.
import { createReplica } from '../../electron/host/access/index.ts';
import { tenantPull } from '../../electron/host/sync/pull/tenant-pull.ts';
import { createRemote } from '../../electron/host/sync/remote/remote.ts';
import { openLocal, PROJECT } from './pull-helpers.ts';

const [file, baseUrl, token, pageSize] = process.argv.slice(2);
const local = openLocal(file);
process.stdout.write('ready\n');
const summary = await tenantPull({
  db: local.store.db,
  store: createReplica(local.store),
  outbox: local.outbox,
  remote: createRemote({ baseUrl, token }),
  project: PROJECT,
  pageSize: Number(pageSize),
  onProgress: (p) => process.stdout.write(`progress ${p.done} ${p.total ?? 0}\n`),
});
local.store.close();
process.stdout.write(`done ${JSON.stringify({ pulled: summary.pulled, deduped: summary.deduped, total: summary.total, resumedTypes: summary.resumedTypes, errors: summary.errors })}\n`);
