// The leak crawl (issue 13): for every demo role, a unique canary in every field its policy hides and
// resources out of its scope; seeded requests over every route family as that role, over HTTP; no
// canary byte and no out-of-scope id in any answer the request did not carry, no existence oracle
// (a hidden value and a decoy get the same answer), no 5xx, and the host still answers afterwards.
// Export is crawled in process: each role's export folder is searched the same way. Set
// OUTPOST_CRAWL_SEED to replay a failure, OUTPOST_CRAWL_REQUESTS for a longer crawl.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportNdjson } from '../../electron/host/transfer/export.ts';
import { openDemoDoor, type DemoDoor, type DemoRole } from '../helpers/demo-door.ts';
import { crawl, describeFailures } from './crawl.ts';
import { plantCanaries, type CrawlFixture } from './crawl-fixture.ts';

/** Roles that may rewrite patients (and so wipe planted canaries) go last. */
const ORDER: DemoRole[] = ['nurse', 'researcher', 'robert', 'chenPatient', 'chen', 'admin'];
const SEED = Number(process.env.OUTPOST_CRAWL_SEED ?? Date.now() % 100_000);
const PER_ROLE = Number(process.env.OUTPOST_CRAWL_REQUESTS ?? 250);

let d: DemoDoor;
let f: CrawlFixture;

beforeAll(async () => {
  d = await openDemoDoor();
  f = await plantCanaries(d);
}, 180_000);
afterAll(async () => d?.close());

describe('leak crawl over the demo clinic', () => {
  it(`no canary, no out-of-scope id, no existence oracle, no 5xx (seed ${SEED}, ${PER_ROLE} requests per role)`, async () => {
    const { failures, requests } = await crawl(d, f, { seed: SEED, perRole: PER_ROLE, roles: ORDER });
    expect(failures, `${failures.length} failures; replay with OUTPOST_CRAWL_SEED=${SEED}\n${describeFailures(failures)}`).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(PER_ROLE * ORDER.length);
    // The host still answers, and the data it was crawled over is still there.
    expect((await d.call(undefined, 'GET', 'metadata')).status).toBe(200);
    expect((await d.call('admin', 'GET', `Patient/${f.pools.mary}`)).status).toBe(200);
  }, 240_000);

  it('each role exports only what it may read: no canary, no out-of-scope id in any file', () => {
    for (const role of ORDER) {
      const folder = mkdtempSync(path.join(tmpdir(), `outpost-crawl-export-${role}-`));
      try {
        exportNdjson(d.host.access.forSession(d.host.auth.authenticate(d.tokens[role])), folder);
        const text = readdirSync(folder).map((file) => readFileSync(path.join(folder, file), 'utf8')).join('\n');
        const forbidden = [...f.canaries.filter((c) => !c.readers.includes(role)), ...f.outOfScope[role].map((value) => ({ value, where: 'out-of-scope id' }))];
        const leaked = forbidden.filter((c) => text.includes(c.value)).map((c) => `${role}: ${c.where}`);
        expect(leaked).toEqual([]);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }
  });
});
