// The leak crawl catches what it is for: with a regression planted in the enforcement point (the
// hidden-field guard dropped, or hidden fields no longer removed), the same crawl reports it, with the
// seed and the request. Without the plants (leak-crawl.test.ts) it reports nothing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDemoDoor, type DemoDoor } from '../helpers/demo-door.ts';
import { crawl } from './crawl.ts';
import { plantCanaries, type CrawlFixture } from './crawl-fixture.ts';

const planted = vi.hoisted(() => ({ guard: false, masks: false }));

vi.mock('../../electron/host/access/policy/search-guard.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../electron/host/access/policy/search-guard.ts')>();
  return {
    ...original,
    createSearchGuard: (policy: Parameters<typeof original.createSearchGuard>[0]) => {
      const guard = original.createSearchGuard(policy);
      return { ...guard, assertAllowed: (type: string, query: [string, string][]) => (planted.guard ? undefined : guard.assertAllowed(type, query)) };
    },
  };
});

vi.mock('../../electron/host/access/policy/fields.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../electron/host/access/policy/fields.ts')>();
  return {
    ...original,
    removeHiddenFields: <T,>(resource: T, hidden: string[]): T => (planted.masks ? resource : original.removeHiddenFields(resource as never, hidden)),
  };
});

let d: DemoDoor;
let f: CrawlFixture;

beforeAll(async () => {
  d = await openDemoDoor({ roles: ['nurse', 'researcher', 'admin'] });
  f = await plantCanaries(d);
}, 180_000);
afterAll(async () => d?.close());

describe('the leak crawl finds a planted regression', () => {
  it('the hidden-field guard dropped: searches and If-None-Exist on hidden fields become existence oracles', async () => {
    planted.guard = true;
    try {
      const { failures } = await crawl(d, f, { seed: 4242, perRole: 120, roles: ['nurse', 'researcher'] });
      expect(failures.some((x) => x.problem.startsWith('existence oracle'))).toBe(true);
      expect(failures[0]).toMatchObject({ seed: 4242 });
      expect(failures[0].request.path).toBeTruthy();
    } finally {
      planted.guard = false;
    }
  }, 240_000);

  it('hidden fields no longer removed: the canaries show up in what the nurse and the researcher read', async () => {
    planted.masks = true;
    try {
      const { failures } = await crawl(d, f, { seed: 4243, perRole: 120, roles: ['nurse', 'researcher'] });
      const leaks = failures.filter((x) => x.problem.startsWith('leaked'));
      expect(leaks.some((x) => x.role === 'nurse' && /Morgan/.test(x.problem))).toBe(true);
      expect(leaks.some((x) => x.role === 'researcher' && /Cohort/.test(x.problem))).toBe(true);
    } finally {
      planted.masks = false;
    }
  }, 240_000);

  it('with nothing planted the same crawl is clean', async () => {
    const { failures } = await crawl(d, f, { seed: 4244, perRole: 60, roles: ['nurse', 'researcher'] });
    expect(failures).toEqual([]);
  }, 240_000);
});
