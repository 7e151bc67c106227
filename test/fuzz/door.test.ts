// Fuzzing the door (issue 14, part 5): about 1,000 seeded hostile requests over every route family
// (FHIR REST and Bundles, auth, admin and setup, sync, import; hostile headers and request lines),
// through browser mode's HTTP adapter (800) and Electron's IPC handler (200), with a project admin's, a
// read-only member's, a wrong or no token. Each
// must get an answer, never a 5xx; a 4xx carries an OperationOutcome; the store is unchanged after
// every one of them; the host keeps answering. A failure prints the seed and the request: replay with
// OUTPOST_FUZZ_SEED=<seed> (and OUTPOST_FUZZ_COUNT=<n> for a longer run).
//
// A second test plants a regression (a route that fails on a NUL in its query) and shows the fuzzer
// reports it with the seed and the request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../electron/host/host.ts';
import { open } from '../../electron/host/routes/router.ts';
import { startHttpServer, type HttpServer } from '../../electron/host/http.ts';
import { createClinic, patient, type TestClinic } from '../access-enforce/helpers.ts';
import { tempDir } from '../host/helpers.ts';
import { fuzzCase, type FuzzContext } from './cases.ts';
import { overHttp, overIpc, runFuzz } from './engine.ts';
import { hostileQuery, seededRandom } from './generators.ts';
import { createIpcRequestHandler } from '../../electron/shell/ipc-request.ts';

const SEED = Number(process.env.OUTPOST_FUZZ_SEED ?? 14_2026);
const COUNT = Number(process.env.OUTPOST_FUZZ_COUNT ?? 800);
/** The IPC door gets a share of its own (the total stays about 1,000). */
const IPC_COUNT = Math.round(COUNT / 4);

let c: TestClinic;
let server: HttpServer;
let context: FuzzContext;

beforeAll(async () => {
  c = createClinic({ dataDir: tempDir('outpost-fuzz-') });
  const readOnly = c.policy([{ resourceType: 'Patient', readonly: true }, { resourceType: 'Observation', readonly: true }]);
  const admin = await c.person('Admin', { admin: true });
  const reader = await c.person('Reader', { accessPolicy: { reference: `AccessPolicy/${readOnly}` } });
  const stored = c.seed(patient('Fuzzington', { birthDate: '1970-01-01', gender: 'female' }));
  for (let i = 0; i < 5; i++) {
    c.seed({ resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${stored.id}` }, valueQuantity: { value: 60 + i } });
  }
  context = { adminToken: await c.login(admin.email), readerToken: await c.login(reader.email), project: c.project, patientId: stored.id, membershipId: reader.membership };
  server = await startHttpServer(c.host, { port: 0, hostname: '127.0.0.1', requireToken: false });
});

afterAll(async () => {
  await server?.close();
  c?.close();
});

describe('fuzzing the door', () => {
  it(`${COUNT} hostile requests (seed ${SEED}): answered, never 5xx, 4xx with an OperationOutcome, the store unchanged`, async () => {
    const report = await runFuzz({ send: overHttp(server.port), db: c.host.rawStore.db, seed: SEED, count: COUNT, maxFailures: Number(process.env.OUTPOST_FUZZ_MAX_FAILURES ?? 10), next: (r) => fuzzCase(r, context) });
    console.log(`fuzz seed ${SEED}: ${report.sent} requests`, JSON.stringify(report.byFamily), JSON.stringify(report.byStatus));
    expect(report.failures.join('\n\n')).toBe('');
    expect(report.sent).toBe(COUNT);
    // Every family was reached, and most answers were refusals.
    expect(Object.keys(report.byFamily).sort()).toEqual(['admin', 'auth', 'fhir-bundle', 'fhir-conditional', 'fhir-create', 'fhir-history', 'fhir-patch', 'fhir-read', 'fhir-search', 'fhir-search-post', 'fhir-update', 'header', 'import', 'protocol', 'sync']);
    // The host still serves its people.
    const after = await c.call(context.adminToken, 'GET', 'Observation?subject=Patient/' + context.patientId);
    expect(after.body.total).toBe(5);
  }, 300_000);
});

describe('fuzzing the IPC door', () => {
  it(`${IPC_COUNT} hostile envelopes (seed ${SEED}) through Electron's IPC handler, lone surrogates in bodies included`, async () => {
    const handler = createIpcRequestHandler(() => c.host);
    const report = await runFuzz({ send: overIpc(handler, seededRandom(SEED + 1)), db: c.host.rawStore.db, seed: SEED, count: IPC_COUNT, next: (r) => fuzzCase(r, context) });
    console.log(`ipc fuzz seed ${SEED}: ${report.sent} envelopes`, JSON.stringify(report.byStatus));
    expect(report.failures.join('\n\n')).toBe('');
  }, 300_000);
});

describe('the fuzzer itself', () => {
  let host: Host;
  let planted: HttpServer;
  afterAll(async () => {
    await planted?.close();
    host?.close();
  });

  it('catches a planted regression and names the seed and the request', async () => {
    host = createHost({
      dataDir: ':memory:',
      routes: () => [
        {
          method: 'GET',
          pattern: 'outpost/planted',
          ...open((req) => {
            // The regression: a value with a NUL reaches code that does not expect one.
            if (decodeURIComponent(req.query.replace(/%(?![0-9a-f]{2})/gi, '%25')).includes('\u0000')) {
              throw new TypeError('planted: cannot read properties of undefined');
            }
            return { status: 200, headers: { 'content-type': 'application/json' }, body: {} };
          }),
        },
      ],
    });
    planted = await startHttpServer(host, { port: 0, hostname: '127.0.0.1', requireToken: false, token: 'unused' });
    const report = await runFuzz({
      send: overHttp(planted.port),
      db: host.rawStore.db,
      seed: SEED,
      count: 300,
      maxFailures: 1,
      next: (r) => ({ family: 'planted', request: { method: 'GET', target: `/outpost/planted?${hostileQuery(r)}`, headers: [] }, mayBeOk: true }),
    });
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatch(new RegExp(`^seed ${SEED}, request #\\d+ \\(planted\\): answered 500`));
    expect(report.failures[0]).toContain('GET "/outpost/planted?');
  }, 120_000);
});
