// Query plans under a criteria policy: the policy's restriction is one more probe per candidate row,
// tested AFTER the search's own filters (SQLite tests WHERE terms in order). A broad policy criteria
// (Observation?status=final,amended,...) placed first cost a patient's sorted vital signs 2.9x the
// unrestricted search in `npm run bench -- access`; placed last, ~1.1x.
import type { ProjectMembership } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnforcer } from '../../electron/host/access/context.ts';
import { createPrincipalCache } from '../../electron/host/access/principal.ts';
import { explainableSearch } from '../../electron/host/search/search.ts';
import { createClinic, patient, type TestClinic } from './helpers.ts';

let c: TestClinic;
let restrict: (type: string) => ReturnType<ReturnType<typeof createEnforcer>['restrict']>;
let pat: string;

beforeAll(() => {
  c = createClinic();
  pat = c.seed(patient('Planned')).id;
  c.seed({ resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { text: 'bp' }, subject: { reference: `Patient/${pat}` }, effectiveDateTime: '2020-01-01' });
  const policy = c.policy([
    { resourceType: 'Observation', criteria: 'Observation?status=final,amended,corrected,preliminary,registered' },
    { resourceType: 'Condition', criteria: 'Condition?clinical-status=active,recurrence,relapse,inactive,remission,resolved' },
    { resourceType: 'Patient' },
  ]);
  const membership = { resourceType: 'ProjectMembership', id: 'plan-member', accessPolicy: { reference: `AccessPolicy/${policy}` }, profile: { reference: 'Practitioner/x' }, user: { reference: 'User/x' } } as ProjectMembership;
  const principal = createPrincipalCache(c.host.rawStore.db).forSession({ projectId: c.project, membership, subject: 'User/x', profile: { reference: 'Practitioner/x' } } as never);
  const e = createEnforcer({ store: c.host.rawStore, audit: c.host.audit }, principal);
  restrict = (type) => e.restrict(type, 'search');
});
afterAll(() => c.close());

function explain(type: string, query: string): { sql: string; steps: string[] } {
  const { sql, params } = explainableSearch(c.host.rawStore.db, type, query, { project: c.project, baseUrl: 'http://localhost/fhir/R4/', restrict });
  const steps = (c.host.rawStore.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
  return { sql, steps };
}

describe('plans under a criteria policy', () => {
  it("a patient's vital signs, newest first: the reference drives, the category is probed before the policy's status", () => {
    const { sql, steps } = explain('Observation', `subject=Patient/${pat}&category=${encodeURIComponent('http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')}&_sort=-date&_count=20&_offset=20`);
    const plan = steps.join('\n');
    // the driving lookup: the patient's observations by reference, then liveness through the narrow covering index
    expect(steps[1], plan).toMatch(/^SEARCH idx_ref USING PRIMARY KEY \(pid=\? AND ref_id=\? AND ref_type=\?\)/);
    expect(plan).toMatch(/SEARCH r USING COVERING INDEX resource_live \(rid=\?\)/);
    expect(steps.filter((s) => /^SCAN (?!a\d)/.test(s)), plan).toEqual([]);
    // probes in WHERE order: the search's category (code and system), then the policy's status (codes only)
    const category = steps.findIndex((s) => /idx_token USING COVERING INDEX idx_token_rid \(rid=\? AND pid=\? AND code=\? AND system=\?\)/.test(s));
    const status = steps.findIndex((s) => /idx_token USING COVERING INDEX idx_token_rid \(rid=\? AND pid=\? AND code=\?\)$/.test(s));
    expect(category, plan).toBeGreaterThan(0);
    expect(status, plan).toBeGreaterThan(category);
    expect(sql.indexOf('code = ? AND system = ?')).toBeLessThan(sql.lastIndexOf('(code = ?) OR (code = ?)'));
  });

  it('the restriction follows the search filters in every searched type, and an unrestricted type has none', () => {
    const { sql } = explain('Observation', `subject=Patient/${pat}&code=bp`);
    expect(sql.indexOf('r.deleted = 0')).toBeLessThan(sql.indexOf('(code = ?) OR (code = ?)'));
    expect(explain('Patient', 'name=planned').sql).not.toContain('(code = ?) OR');
  });
});
