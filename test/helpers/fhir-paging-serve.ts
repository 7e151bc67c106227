// The paging test remote in its own process (so a benchmark's pull does not share an event loop with
// the server): seeds `count` clinical resources (Patients, then 49 Observations each) and prints one
// JSON line `{ "baseUrl", "token", "count" }`; serves until killed. argv: <count>.
// Used by `npm run bench -- sync` through startPagingFhirServerProcess().
import { startPagingFhirServer } from './fhir-paging.ts';
import { clinicalData } from '../sync/pull-helpers.ts';

const count = Number(process.argv[2] ?? 100_000);
const patients = Math.max(1, Math.round(count / 50));
const server = await startPagingFhirServer();
const seeded = server.seed(clinicalData(patients, Math.max(0, Math.round(count / patients) - 1)));
process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl, token: server.token, count: seeded.length })}\n`);
