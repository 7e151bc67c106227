// Child process of crash.test.ts: imports transaction Bundles into a store until it is killed.
// argv: <db file> <key or '-'> <tag prefix> <bundle files...>. Every resource of Bundle k carries
// meta.source = `<prefix>-<k>`, so the parent can tell, per Bundle, whether it is wholly there.
// Prints "ready" once the store is open, then "begin <k>" and "committed <k>" around each Bundle.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type { Bundle } from '@medplum/fhirtypes';
import { createStore } from '../../electron/host/store/index.ts';

const [file, keyArg, prefix, ...bundleFiles] = process.argv.slice(2);
const bundles = bundleFiles.map((f) => JSON.parse(zlib.gunzipSync(fs.readFileSync(f)).toString('utf8')) as Bundle);
const store = createStore({ path: file, key: keyArg === '-' ? undefined : keyArg });
process.stdout.write('ready\n');
for (let k = 0; ; k++) {
  const source = bundles[k % bundles.length];
  const tagged: Bundle = {
    ...source,
    entry: source.entry?.map((e) => ({ ...e, resource: e.resource && { ...e.resource, meta: { ...e.resource.meta, source: `${prefix}-${k}` } } })),
  };
  process.stdout.write(`begin ${k}\n`);
  // The importer's validation mode (structure.ts): the test is about atomicity, and faster Bundles mean
  // more of them commit between kills.
  store.processBundle(tagged, { validation: 'structure' });
  process.stdout.write(`committed ${k}\n`);
}
