// `npm run bench -- access`: the cost of access control at 200k resources, every number next to its
// baseline measured in the same run (shared machines are noisy: read the ratios).
// - the ten clinic searches of the store bench (cases.ts, same generated data) through the enforcement
//   point's session-scoped store, as an unrestricted role (`*`), under a criteria policy and under a
//   compartment policy (a patient portal); ratio to the unrestricted role (target <= 1.5x);
// - role switch (POST /auth/switch-role through the host's door, and switch + first search: the new
//   policy is compiled then) (target p50 <= 20 ms);
// - password check (bcrypt cost 10, Medplum's format) and a whole POST /auth/login;
// - audit overhead per request: the same GET requests through host.handle with AuditEvents on and off
//   (the same data folder reopened), each followed by one event-loop turn (when queued events are written).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccessPolicy, Bundle, ProjectMembership, Resource, User } from '@medplum/fhirtypes';
import { createHost, type Host } from '../../electron/host/host.ts';
import { hashPassword, verifyPassword } from '../../electron/host/auth/passwords.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { loadFhirDefinitions } from '../../electron/host/fhir/definitions.ts';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import type { Repository } from '../../electron/host/access/index.ts';
import { type CaseParams, searchCases } from './cases.ts';
import { storeProcess } from './ingest.ts';
import { createRandom, fixturesDir, loadTemplates, replicateBundles, resolveBundle } from './replicate.ts';
import { createSampler, type Samples } from './samples.ts';
import { createTempDir } from './sqlite.ts';
import { markdownTable, ms, percentile, peakRss, ratio } from './stats.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PASSWORD = 'bench-password-1';
const VERIFIER = 'bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
const USAGE = 'npm run bench -- access [--resources 200000] [--reps 100] [--seed n] [--json] [--keep]';

function log(message: string): void {
  process.stderr.write(`[bench access] ${message}\n`);
}

interface Args {
  resources: number;
  reps: number;
  seed: number;
  json: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { resources: 200_000, reps: 100, seed: 20_260_101, json: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = (): number => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${flag} needs a whole number\n${USAGE}`);
      }
      return value;
    };
    if (flag === '--resources') args.resources = number();
    else if (flag === '--reps') args.reps = number();
    else if (flag === '--seed') args.seed = number();
    else if (flag === '--json') args.json = true;
    else if (flag === '--keep') args.keep = true;
    else throw new Error(`Unknown flag ${flag}\n${USAGE}`);
  }
  return args;
}

/** Policies of the three roles. The criteria keep (nearly) every row, so result sets stay comparable. */
function policies(): Record<'open' | 'criteria' | 'compartment', AccessPolicy> {
  return {
    open: { resourceType: 'AccessPolicy', name: 'bench: unrestricted', resource: [{ resourceType: '*' }] },
    criteria: {
      resourceType: 'AccessPolicy',
      name: 'bench: criteria',
      resource: [
        { resourceType: 'Patient', criteria: 'Patient?gender=female,male,other,unknown' },
        { resourceType: 'Observation', criteria: 'Observation?status=final,amended,corrected,preliminary,registered' },
        { resourceType: 'Encounter', criteria: 'Encounter?status=finished,in-progress,arrived,planned,triaged,onleave' },
        { resourceType: 'Condition', criteria: 'Condition?clinical-status=active,recurrence,relapse,inactive,remission,resolved' },
        { resourceType: 'AllergyIntolerance', criteria: 'AllergyIntolerance?clinical-status=active,inactive,resolved' },
        { resourceType: 'Claim', criteria: 'Claim?status=active,cancelled,draft' },
        { resourceType: 'Practitioner', interaction: ['read', 'search'] },
      ],
    },
    compartment: {
      resourceType: 'AccessPolicy',
      name: 'bench: patient portal',
      resource: [
        { resourceType: '*', compartment: { reference: 'Patient/%patient.id' }, interaction: ['read', 'vread', 'search', 'history'] },
        { resourceType: 'Practitioner', interaction: ['read', 'search'] },
      ],
    },
  };
}

function drawParams(samples: Samples, reps: number, seed: number): CaseParams[][] {
  return searchCases.map((searchCase, i) => {
    const next = createRandom(seed + i);
    const pick = <T>(items: T[]): T => items[next() % items.length];
    return Array.from({ length: reps }, () => searchCase.draw(samples, pick));
  });
}

async function call(host: Host, method: string, p: string, body?: string, headers: Record<string, string> = {}) {
  return host.handle({ method: method as 'GET', path: p, headers, body });
}

/** Medplum's login flow through the host's door; returns the access token. */
async function login(host: Host, email: string, membership: string): Promise<string> {
  const started = await call(host, 'POST', '/auth/login', JSON.stringify({ email, password: PASSWORD, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }), { 'content-type': 'application/json' });
  const body = started.body as { login: string; code?: string };
  const chosen = body.code ? body : ((await call(host, 'POST', '/auth/profile', JSON.stringify({ login: body.login, profile: membership }), { 'content-type': 'application/json' })).body as { code: string });
  const token = await call(host, 'POST', '/oauth2/token', new URLSearchParams({ grant_type: 'authorization_code', code: chosen.code ?? '', code_verifier: VERIFIER }).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  return (token.body as { access_token: string }).access_token;
}

interface RoleTimes {
  times: number[];
  hits: number;
  errors: number;
  firstError?: string;
}

function hitsOf(bundle: Bundle): number {
  return bundle.entry?.length ?? 0;
}

function openHost(dataDir: string, key: string, audit: boolean): Host {
  return createHost({ dataDir, key, audit, authOptions: { idleLockMs: 24 * 60 * 60_000, sessionTtlMs: 24 * 60 * 60_000, accessTokenTtlMs: 24 * 60 * 60_000 } });
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const started = performance.now();
  loadFhirDefinitions();
  const tmp = createTempDir('outpost-bench-access-');
  const key = randomBytes(32).toString('hex');
  let host = openHost(tmp.dir, key, true);
  try {
    // 1. The store bench's data: replicated Synthea Bundles, through the store in one transaction each.
    log(`ingest: ${args.resources} resources`);
    const idMap = new Map<string, string>();
    const sampler = createSampler(createRandom(args.seed + 3));
    let resources = 0;
    const ingestStart = performance.now();
    for (const { bundle } of replicateBundles(loadTemplates(fixturesDir(repoRoot)), { resources: args.resources, seed: args.seed })) {
      const text = JSON.stringify(bundle);
      storeProcess(host.rawStore, bundle, { validation: 'structure', project: DEFAULT_PROJECT_ID }, idMap);
      for (const r of resolveBundle(JSON.parse(text) as Bundle)) {
        sampler.offer(r);
        resources++;
      }
    }
    log(`ingested ${resources} in ${((performance.now() - ingestStart) / 1000).toFixed(1)} s`);
    const samples = sampler.samples();
    const mapRef = (ref: string): string => {
      const mapped = idMap.get(ref);
      if (mapped === undefined) throw new Error(`no store id for ${ref}`);
      return mapped;
    };
    const params = drawParams(samples, args.reps, args.seed);

    // 2. One User with three memberships: unrestricted, criteria, compartment (a patient's portal).
    const passwordHash = await hashPassword(PASSWORD);
    const seed = <T extends Resource>(r: T): T & { id: string } => host.rawStore.create(r, undefined, { project: DEFAULT_PROJECT_ID }).resource as T & { id: string };
    const user = seed<User>({ resourceType: 'User', email: 'bench@example.org', firstName: 'Bench', lastName: 'User', passwordHash });
    const portalPatient = mapRef(samples.patients[0].ref);
    const memberships: Record<string, string> = {};
    for (const [role, policy] of Object.entries(policies())) {
      const saved = seed<AccessPolicy>(policy);
      const profile = role === 'compartment' ? portalPatient : `Practitioner/${seed({ resourceType: 'Practitioner', name: [{ family: `Bench ${role}` }] }).id}`;
      memberships[role] = seed<ProjectMembership>({
        resourceType: 'ProjectMembership',
        project: { reference: `Project/${DEFAULT_PROJECT_ID}` },
        user: { reference: `User/${user.id}` },
        profile: { reference: profile },
        accessPolicy: { reference: `AccessPolicy/${saved.id}` },
      }).id;
    }
    const roles = ['open', 'criteria', 'compartment'] as const;
    const tokens: Record<string, string> = {};
    const repos: Record<string, Repository> = {};
    for (const role of roles) {
      tokens[role] = await login(host, 'bench@example.org', memberships[role]);
      repos[role] = host.access.forSession(host.auth.authenticate(tokens[role]));
    }

    // 3. The ten searches as each role, roles alternating within each repetition.
    log(`searches: ${searchCases.length} x ${args.reps} repetitions x ${roles.length} roles`);
    const results = searchCases.map((searchCase, c) => {
      const byRole: Record<string, RoleTimes> = Object.fromEntries(roles.map((r) => [r, { times: [], hits: 0, errors: 0 }]));
      for (let rep = -5; rep < params[c].length; rep++) {
        const p = params[c][Math.max(rep, 0)];
        const { type, query } = searchCase.query(p, mapRef);
        const order = rep % 3 === 0 ? roles : rep % 3 === 1 ? [roles[1], roles[2], roles[0]] : [roles[2], roles[0], roles[1]];
        for (const role of order) {
          const t0 = performance.now();
          try {
            const bundle = repos[role].search(type, query);
            if (rep >= 0) {
              byRole[role].times.push(performance.now() - t0);
              byRole[role].hits += hitsOf(bundle);
            }
          } catch (err) {
            byRole[role].errors++;
            byRole[role].firstError ??= `${type}?${query}: ${(err as Error).message}`;
          }
        }
      }
      return { title: searchCase.title, byRole };
    });

    // 4. Role switch: POST /auth/switch-role, and switch + the first search under the new role.
    log('role switch');
    const switchTimes: number[] = [];
    const switchAndSearch: number[] = [];
    const switcher = tokens.open;
    const auth = { authorization: `Bearer ${switcher}`, 'content-type': 'application/json' };
    for (let i = 0; i < 60; i++) {
      const target = memberships[i % 2 === 0 ? 'criteria' : 'open'];
      const t0 = performance.now();
      const res = await call(host, 'POST', '/auth/switch-role', JSON.stringify({ membership: target }), auth);
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`switch-role answered ${res.status}: ${JSON.stringify(res.body)}`);
      await call(host, 'GET', '/fhir/R4/Patient?_count=20', undefined, { authorization: `Bearer ${switcher}` });
      const t2 = performance.now();
      if (i >= 4) {
        switchTimes.push(t1 - t0);
        switchAndSearch.push(t2 - t0);
      }
    }

    // 5. Password check (bcrypt, cost 10) and a whole login.
    log('password check');
    const verifyTimes: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      if (!(await verifyPassword(PASSWORD, passwordHash))) throw new Error('password check failed');
      verifyTimes.push(performance.now() - t0);
    }
    const loginTimes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      await login(host, 'bench@example.org', memberships.open);
      loginTimes.push(performance.now() - t0);
    }

    // 6. Audit overhead: the same requests through host.handle, audit on, then the folder reopened with audit off.
    const requests = searchCases.flatMap((searchCase, c) => params[c].slice(0, 30).map((p) => searchCase.query(p, mapRef)));
    const timeRequests = async (h: Host, token: string): Promise<number[]> => {
      const times: number[] = [];
      for (const [i, { type, query }] of [...requests.slice(0, 20), ...requests].entries()) {
        const t0 = performance.now();
        const res = await call(h, 'GET', `/fhir/R4/${type}?${query}`, undefined, { authorization: `Bearer ${token}` });
        // One event-loop turn, as between two HTTP requests: the audit log writes queued read events then.
        await new Promise((resolve) => setImmediate(resolve));
        if (res.status !== 200) throw new Error(`${type}?${query} answered ${res.status}`);
        if (i >= 20) times.push(performance.now() - t0);
      }
      return times;
    };
    log(`audit overhead: ${requests.length} requests with audit on, then off`);
    const auditCount = (h: Host): number => h.rawStore.db.prepare("SELECT count(*) FROM resource WHERE type = 'AuditEvent'").pluck().get() as number;
    const eventsBefore = auditCount(host);
    const auditOn = await timeRequests(host, await login(host, 'bench@example.org', memberships.open));
    const eventsWritten = auditCount(host) - eventsBefore;
    host.close();
    host = openHost(tmp.dir, key, false);
    const auditOff = await timeRequests(host, await login(host, 'bench@example.org', memberships.open));
    const auditOn2 = await (async () => {
      host.close();
      host = openHost(tmp.dir, key, true);
      return timeRequests(host, await login(host, 'bench@example.org', memberships.open));
    })();

    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const report = {
      resources,
      reps: args.reps,
      node: process.version,
      searches: results.map((r) => ({
        title: r.title,
        ...Object.fromEntries(roles.map((role) => [role, { p50: percentile(r.byRole[role].times, 50), p99: percentile(r.byRole[role].times, 99), hits: r.byRole[role].hits / Math.max(1, r.byRole[role].times.length), errors: r.byRole[role].errors, firstError: r.byRole[role].firstError }])),
      })),
      roleSwitch: { p50: percentile(switchTimes, 50), p99: percentile(switchTimes, 99), withFirstSearchP50: percentile(switchAndSearch, 50) },
      password: { verifyP50: percentile(verifyTimes, 50), loginP50: percentile(loginTimes, 50) },
      audit: {
        requests: requests.length,
        eventsPerRequest: eventsWritten / (requests.length + 20),
        onP50: percentile([...auditOn, ...auditOn2], 50),
        offP50: percentile(auditOff, 50),
        onMean: (sum(auditOn) + sum(auditOn2)) / (auditOn.length + auditOn2.length),
        offMean: sum(auditOff) / auditOff.length,
      },
      rss: peakRss(),
      totalSeconds: (performance.now() - started) / 1000,
    };
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${format(report)}\n`);
  } finally {
    host.close();
    if (args.keep) log(`kept ${tmp.dir}`);
    else tmp.dispose();
  }
}

type Report = {
  resources: number;
  reps: number;
  node: string;
  searches: ({ title: string } & Record<string, unknown>)[];
  roleSwitch: { p50: number; p99: number; withFirstSearchP50: number };
  password: { verifyP50: number; loginP50: number };
  audit: { requests: number; eventsPerRequest: number; onP50: number; offP50: number; onMean: number; offMean: number };
  totalSeconds: number;
};

function format(report: Report): string {
  type L = { p50: number; p99: number; hits: number; errors: number; firstError?: string };
  const mark = (r: number, target: number): string => `${ratio(r)} ${r <= target ? 'met' : 'MISSED'}`;
  const rows = report.searches.map((s) => {
    const [open, criteria, compartment] = [s.open, s.criteria, s.compartment] as L[];
    return [
      s.title,
      `${ms(open.p50)} / ${ms(open.p99)} (${open.hits.toFixed(1)})`,
      `${ms(criteria.p50)} / ${ms(criteria.p99)} (${criteria.hits.toFixed(1)})`,
      mark(criteria.p50 / open.p50, 1.5),
      `${ms(compartment.p50)} / ${ms(compartment.p99)} (${compartment.hits.toFixed(1)})`,
      mark(compartment.p50 / open.p50, 1.5),
    ];
  });
  const errors = report.searches.flatMap((s) => ['open', 'criteria', 'compartment'].map((r) => (s[r] as L).firstError).filter(Boolean));
  const a = report.audit;
  return [
    `Access benchmark: ${report.resources} resources, ${report.reps} repetitions per search, Node ${report.node}, ${report.totalSeconds.toFixed(0)} s`,
    '',
    'Searches through the enforcement point (p50 / p99, mean hits), ratio of p50 to the unrestricted role (target <= 1.5x):',
    markdownTable(['search', 'unrestricted (*)', 'criteria policy', 'ratio', 'compartment policy (patient portal)', 'ratio'], rows),
    ...(errors.length ? ['', `Errors: ${errors.join('; ')}`] : []),
    '',
    markdownTable(
      ['measure', 'value', 'target'],
      [
        ['role switch (POST /auth/switch-role) p50 / p99', `${ms(report.roleSwitch.p50)} / ${ms(report.roleSwitch.p99)}`, report.roleSwitch.p50 <= 20 ? '<= 20 ms met' : '<= 20 ms MISSED'],
        ['role switch + first search under the new policy, p50', ms(report.roleSwitch.withFirstSearchP50), ''],
        ['password check (bcrypt cost 10) p50', ms(report.password.verifyP50), ''],
        ['whole login (POST /auth/login + /oauth2/token) p50', ms(report.password.loginP50), ''],
        [`request through host.handle, audit on / off, p50 (${a.requests} requests, ${a.eventsPerRequest.toFixed(2)} AuditEvents each)`, `${ms(a.onP50)} / ${ms(a.offP50)}: ${ratio(a.onP50 / a.offP50)}`, ''],
        ['same, mean', `${ms(a.onMean)} / ${ms(a.offMean)}: ${ratio(a.onMean / a.offMean)}`, ''],
      ]
    ),
  ].join('\n');
}
