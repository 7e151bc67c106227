// Child process of kill.medplum.ts: one sync run of a data folder with its configured remote, until
// done or killed. argv: <data dir> <push|tenant>. Prints "answered" after each answered POST (push),
// "progress <phase> <done> <total>" on progress, "done <summary json>" at the end. The push goes in
// Bundles of 25 (two in flight), the tenant pull in pages of 100, so a kill lands in the middle.
import { createHost } from '../../electron/host/host.ts';
import { readOrCreateDatabaseKey } from '../../electron/host/paths.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { pushOutbox } from '../../electron/host/sync/push/push.ts';

const [dataDir, mode] = process.argv.slice(2);
const tracingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (init?.method === 'POST' && String(input).endsWith('/fhir/R4/')) {
    await res.clone().text();
    process.stdout.write('answered\n');
  }
  return res;
};
const host = createHost({
  dataDir,
  key: readOrCreateDatabaseKey(dataDir),
  sync: {
    fetch: tracingFetch,
    runner: {
      pullPageSize: 100,
      steps: { push: (ctx) => pushOutbox({ db: ctx.db, remote: ctx.remote, store: ctx.store, outbox: ctx.outbox, project: ctx.project, signal: ctx.signal, batchSize: 25 }) as never },
    },
  },
});
host.sync.runner.onProgress((p) => process.stdout.write(`progress ${p.phase} ${p.done} ${p.total ?? 0}\n`));
const summary = await host.sync.runner.run(mode === 'tenant' ? { project: DEFAULT_PROJECT_ID, tenant: true, pullOnly: true } : { project: DEFAULT_PROJECT_ID, pushOnly: true });
host.close();
process.stdout.write(`done ${JSON.stringify(summary)}\n`);
