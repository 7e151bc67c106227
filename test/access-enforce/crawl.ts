// The leak crawl: seeded requests over every route family, sent as each demo role over HTTP, each
// answer searched for a canary or an out-of-scope id the request itself did not carry, for a 5xx, and,
// for requests that carry a hidden or out-of-scope value, compared with the same request carrying a
// decoy of the same shape (a different answer is an existence oracle). Returns the failures, each with
// the seed and the request, so one can be replayed by hand.
import type { DemoDoor, DemoRole, HttpReply } from '../helpers/demo-door.ts';
import type { Canary, CrawlFixture } from './crawl-fixture.ts';

export interface CrawlRequest {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The value whose decoy twin must get the same answer (a hidden or out-of-scope value). */
  probe?: string;
}

export interface CrawlFailure {
  seed: number;
  role: DemoRole;
  request: CrawlRequest;
  problem: string;
}

/** mulberry32: a small seeded PRNG, so a failure replays from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = { 'content-type': 'application/fhir+json' };
const patchJson = { 'content-type': 'application/json-patch+json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

/**
 * One generated request as `role`: a family, a target and parameters drawn from the fixture. Half the
 * time the value searched for is one hidden from this very role (the values an oracle would reveal).
 */
export function generate(random: () => number, f: CrawlFixture, role: DemoRole): CrawlRequest {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const typeable = f.canaries.filter((c) => c.readers.length > 0 && !c.where.startsWith('Other'));
  const hiddenHere = typeable.filter((c) => !c.readers.includes(role));
  /** A canary planted in a field of this kind (telecom, identifier, name...), so the search has something to find. */
  const secretOf = (field: string): string => {
    const fits = (c: Canary) => c.where.toLowerCase().includes(field);
    const pool = random() < 0.5 && hiddenHere.some(fits) ? hiddenHere.filter(fits) : typeable.filter(fits);
    return pick(pool.length ? pool : typeable).value;
  };
  const phone = secretOf('telecom');
  const ident = secretOf('identifier');
  const name = secretOf('name');
  const address = secretOf('address');
  const code = secretOf('code');
  const id = pick([f.pools.morgan, f.pools.mary, f.pools.cohort, ...f.pools.outsider, ...f.pools.otherProject, ...f.pools.visible.Patient.slice(0, 4)]);
  const obs = pick([...f.pools.visible.Observation.slice(0, 4), f.pools.outsider[1], f.pools.otherProject[2]]);
  const type = pick(['Patient', 'Observation', 'Condition', 'Encounter', 'CareTeam', 'Practitioner', 'AuditEvent', 'User', 'ProjectMembership', 'AccessPolicy', 'ClientApplication', 'Project']);
  const enc = encodeURIComponent;
  const searches: [string, string][] = [
    ['Patient', `telecom=${enc(phone)}`],
    ['Patient', `phone=${enc(phone)}`],
    ['Patient', `identifier=${enc(ident)}`],
    ['Patient', `identifier=https://outpost.local/mrn|${enc(ident)}`],
    ['Patient', `name=${enc(name)}`],
    ['Patient', `family:exact=${enc(name)}`],
    ['Patient', `name:contains=${enc(name.slice(2, 9))}`],
    ['Patient', `address=${enc(address)}`],
    ['Patient', `address-city=${enc(address)}`],
    ['Patient', `_id=${id}`],
    ['Patient', `_id=${id}&_elements=telecom,identifier,name`],
    ['Patient', `_id=${id}&_summary=true`],
    ['Patient', `_id=${id}&_revinclude=Observation:subject&_revinclude=Condition:subject`],
    ['Patient', `_sort=telecom&_count=5`],
    ['Patient', `_sort=-identifier&_count=5`],
    ['Patient', `_sort=name&_total=accurate&_count=3`],
    ['Patient', `birthdate=le1961-01-01&birthdate=ge1961-01-01`],
    ['Patient', `gender=female&_summary=count`],
    ['Patient', `_has:Observation:subject:code=${enc(code)}`],
    ['Patient', `_has:Observation:subject:_id=${obs}`],
    ['Patient', `general-practitioner.name=chen&_count=50`],
    ['Patient', `_compartment=Patient/${id}`],
    ['Patient', `_tag=study-cohort-2024&_elements=name,telecom`],
    ['Observation', `patient.telecom=${enc(phone)}`],
    ['Observation', `subject:Patient.identifier=${enc(ident)}`],
    ['Observation', `patient.name=${enc(name)}`],
    ['Observation', `subject=Patient/${id}`],
    ['Observation', `patient=${id}&_include=Observation:subject&_include=Observation:performer`],
    ['Observation', `_compartment=Patient/${id}&_count=5`],
    ['Observation', `code:text=${enc(code)}`],
    ['Observation', `value-quantity=gt60&_count=5`],
    ['Observation', `_id=${obs}&_include=Observation:patient`],
    ['Observation', `_lastUpdated=gt2000-01-01&_sort=-_lastUpdated&_count=5`],
    ['Observation', `code-value-quantity=http://loinc.org|8867-4$gt60&_count=5`],
    ['Observation', `component-code=http://loinc.org|8480-6&_count=5`],
    ['Observation', `value-quantity=ne61&_count=5`],
    ['Observation', `date=sa2020-01-01&_sort=-date&_count=5`],
    ['Observation', `status:not=final&_count=5`],
    ['Observation', `performer:missing=false&_count=5`],
    ['Observation', `subject:identifier=https://outpost.local/mrn|${enc(ident)}`],
    ['Patient', `_profile:below=http://hl7.org&_count=5`],
    ['Patient', `telecom:missing=false&_elements=id&_count=50`],
    ['Patient', `identifier:text=${enc(ident)}`],
    ['Patient', `_lastUpdated=eb2099-01-01&_total=estimate&_count=2`],
    ['RiskAssessment', `probability=gt0.5`],
    ['Encounter', `length=gt10&_count=5`],
    ['Encounter', `patient=${id}&_revinclude=Observation:encounter&_count=3`],
    ['Condition', `subject=${id}&_include=Condition:subject`],
    ['Condition', `code:text=${enc(code)}`],
    ['CareTeam', `patient=${id}&_include=CareTeam:patient`],
    ['AuditEvent', `entity=Patient/${id}&_count=20`],
    ['User', `email=admin@demo.outpost`],
    ['ClientApplication', `name=Crawl`],
    ['Project', ``],
  ];
  const [searchType, query] = pick(searches);
  const probe = [phone, ident, name, address, code].find((v) => query.includes(enc(v))) ?? [...f.pools.outsider, ...f.pools.otherProject].find((x) => query.includes(x));
  const transactionEntry = (): unknown =>
    pick([
      { request: { method: 'GET', url: `${searchType}?${query}` } },
      { request: { method: 'GET', url: `Patient/${id}` } },
      { request: { method: 'GET', url: `Patient/${id}/_history` } },
      { request: { method: 'POST', url: 'Observation', ifNoneExist: `patient.telecom=${enc(phone)}` }, resource: { resourceType: 'Observation', status: 'final', code: { text: 'crawl' }, subject: { reference: `Patient/${f.pools.mary}` } } },
      { request: { method: 'DELETE', url: `Observation?patient.identifier=${enc(ident)}` } },
      { request: { method: 'PATCH', url: `Patient?identifier=${enc(ident)}` }, resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from('[]').toString('base64') } },
    ]);
  const families: (() => CrawlRequest)[] = [
    () => ({ method: 'GET', path: `${type}/${id}`, probe: id }),
    () => ({ method: 'GET', path: `Patient/${id}`, probe: id }),
    () => ({ method: 'GET', path: `Observation/${obs}`, probe: obs }),
    () => ({ method: 'GET', path: `Patient/${id}/_history/1`, probe: id }),
    () => ({ method: 'GET', path: `Patient/${id}/_history?_count=5`, probe: id }),
    () => ({ method: 'GET', path: `Observation/${obs}/_history`, probe: obs }),
    () => ({ method: 'GET', path: `${pick(['Patient', 'Observation', 'Condition', 'AuditEvent', 'User'])}/_history?_count=${pick([5, 50, 200])}` }),
    () => ({ method: 'GET', path: `_history?_count=${pick([20, 200])}` }),
    () => ({ method: 'GET', path: `${searchType}?${query}`, probe }),
    () => ({ method: 'GET', path: `${searchType}?${query}`, probe }),
    () => ({ method: 'GET', path: `${searchType}?${query}`, probe }),
    () => ({ method: 'POST', path: `${searchType}/_search`, body: query, headers: form, probe }),
    () => ({ method: 'GET', path: `?_type=Patient,Observation&_id=${id},${obs}&_count=20`, probe: id }),
    () => ({ method: 'GET', path: `Patient/${id}/Observation?_count=5`, probe: id }),
    () => ({ method: 'POST', path: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: 'crawl' }, subject: { reference: `Patient/${f.pools.mary}` } }, headers: { ...json, 'if-none-exist': `patient.telecom=${enc(phone)}` }, probe: phone }),
    () => ({ method: 'POST', path: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Crawl' }] }, headers: { ...json, 'if-none-exist': `identifier=${enc(ident)}` }, probe: ident }),
    () => ({ method: 'POST', path: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: 'crawl' }, subject: { reference: `Patient/${f.pools.mary}` } }, headers: { ...json, 'if-none-exist': `patient.identifier=${enc(ident)}` }, probe: ident }),
    () => ({ method: 'PUT', path: `Patient?identifier=${enc(ident)}`, body: { resourceType: 'Patient', name: [{ family: 'Crawl' }] }, headers: json, probe: ident }),
    () => ({ method: 'DELETE', path: `Observation?patient.telecom=${enc(phone)}`, probe: phone }),
    () => ({ method: 'PATCH', path: `Patient?telecom=${enc(phone)}`, body: [{ op: 'test', path: '/id', value: 'x' }], headers: patchJson, probe: phone }),
    () => ({ method: 'PATCH', path: `Patient/${id}`, body: [{ op: 'test', path: '/telecom/0/value', value: phone }], headers: patchJson, probe: phone }),
    () => ({
      method: 'PATCH',
      path: `Patient/${id}`,
      body: { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'female' }] }] },
      headers: json,
      probe: id,
    }),
    () => ({ method: 'POST', path: '', body: { resourceType: 'Bundle', type: pick(['batch', 'transaction']), entry: [transactionEntry(), transactionEntry()] }, headers: json }),
    () => ({ method: 'GET', path: '/auth/me' }),
    () => ({ method: 'GET', path: '/outpost/sync/status' }),
    () => ({ method: 'GET', path: '/outpost/policy-review' }),
    () => ({ method: 'GET', path: `AuditEvent?_count=${pick([10, 100])}&_sort=-date` }),
  ];
  return pick(families)();
}

/** The request as sent (for "did the request itself carry this value?"). */
function requestText(r: CrawlRequest): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  return decodeURIComponent(`${r.method} ${r.path} ${JSON.stringify(r.headers ?? {})} ${body}`);
}

/** Status and the resources an answer names (the shape a decoy must reproduce). */
function shapeOf(reply: HttpReply): string {
  const b = reply.body;
  const entries = (x: any): string[] =>
    (x?.entry ?? []).map((e: any) => `${e.response?.status ?? ''}:${e.resource?.resourceType ?? ''}/${e.resource?.id ?? ''}:${e.resource?.resourceType === 'Bundle' ? entries(e.resource).join(',') : ''}`);
  return `${reply.status}|${b?.total ?? ''}|${b?.resourceType === 'Bundle' ? entries(b).sort().join(';') : ''}`;
}

function substitute(r: CrawlRequest, from: string, to: string): CrawlRequest {
  const swap = (s: string): string => s.split(from).join(to).split(encodeURIComponent(from)).join(encodeURIComponent(to));
  return {
    ...r,
    path: swap(r.path),
    headers: r.headers && Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, swap(v)])),
    body: r.body === undefined ? undefined : typeof r.body === 'string' ? swap(r.body) : JSON.parse(swap(JSON.stringify(r.body))),
  };
}

export interface CrawlOptions {
  seed: number;
  /** Requests per role. */
  perRole: number;
  roles: DemoRole[];
}

export async function crawl(d: DemoDoor, f: CrawlFixture, options: CrawlOptions): Promise<{ failures: CrawlFailure[]; requests: number; statuses: Record<number, number> }> {
  const failures: CrawlFailure[] = [];
  /** Everything any request carried: AuditEvents record requests, and an admin reading them reads those values back. */
  const typed = new Set<string>();
  const watched = (c: Canary) => c.value;
  let requests = 0;
  const statuses: Record<number, number> = {};
  const send = async (role: DemoRole, r: CrawlRequest): Promise<HttpReply> => {
    requests++;
    const reply = await d.call(role, r.method, r.path, r.body, r.headers);
    statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
    return reply;
  };
  for (const role of options.roles) {
    const random = prng(options.seed ^ role.length * 7919 ^ role.charCodeAt(0));
    const forbidden = [...f.canaries.filter((c) => !c.readers.includes(role)).map(watched), ...f.outOfScope[role]];
    // First a sweep no seed can miss: the records that hold canaries, read directly and found by search;
    // then the seeded requests.
    const sweep: CrawlRequest[] = [f.pools.morgan, f.pools.mary, f.pools.cohort].flatMap((id) => [
      { method: 'GET', path: `Patient/${id}` },
      { method: 'GET', path: `Patient?_id=${id}&_revinclude=Observation:subject` },
    ]);
    for (let i = 0; i < sweep.length + options.perRole; i++) {
      const request = i < sweep.length ? sweep[i] : generate(random, f, role);
      const sent = requestText(request);
      for (const v of forbidden) {
        if (sent.includes(v)) typed.add(v);
      }
      const fail = (problem: string) => failures.push({ seed: options.seed, role, request, problem });
      const reply = await send(role, request);
      if (reply.status >= 500) {
        fail(`${reply.status}: ${reply.text.slice(0, 300)}`);
        continue;
      }
      const answer = `${JSON.stringify(reply.headers)}\n${reply.text}`;
      const auditBearing = reply.text.includes('"resourceType":"AuditEvent"');
      for (const v of forbidden) {
        if (answer.includes(v) && !sent.includes(v) && !(auditBearing && typed.has(v))) {
          const at = answer.indexOf(v);
          fail(`leaked ${f.canaries.find((c) => c.value === v)?.where ?? 'out-of-scope id'} ${v.slice(0, 24)}: ...${answer.slice(Math.max(0, at - 160), at + 60)}...`);
        }
      }
      // An existence oracle: the same request with a decoy in place of the hidden or out-of-scope value
      // must be answered alike. (AuditEvents record what people typed: an administrator's search of them
      // finds the requests that named a value, which is the audit trail working, not an oracle.)
      const auditSearch = request.path.startsWith('AuditEvent');
      if (request.probe && forbidden.includes(request.probe) && !auditSearch) {
        const twin = substitute(request, request.probe, f.decoy(request.probe));
        const twinReply = await send(role, twin);
        if (shapeOf(twinReply) !== shapeOf(reply)) {
          fail(`existence oracle: with the real value ${shapeOf(reply).slice(0, 200)}, with a decoy ${shapeOf(twinReply).slice(0, 200)}`);
        }
      }
    }
  }
  return { failures, requests, statuses };
}

export function describeFailures(failures: CrawlFailure[]): string {
  return failures
    .slice(0, 10)
    .map((x) => `seed ${x.seed}, ${x.role}: ${x.request.method} ${x.request.path}${x.request.body ? ` body ${JSON.stringify(x.request.body).slice(0, 200)}` : ''}${x.request.headers ? ` headers ${JSON.stringify(x.request.headers)}` : ''}\n  ${x.problem}`)
    .join('\n');
}
