// The fuzz suite's requests, one generator per route family of the door: FHIR (search, read, writes,
// conditional writes, patches, Bundles, history, POST _search), auth, admin and setup, sync, the import
// route, hostile headers and a hostile request line. Every one is bad input or a harmless read: none
// may write (the suite checks the store), and the state-changing routes only ever get ids that do not
// exist or bodies that are wrong.
import { hostileBody, hostileContentType, hostileHeaderValue, hostileJson, hostileQuery, hostileQueryValue, hostileResourceText, hostileText, type FuzzCase, type Random } from './generators.ts';
import type { RawRequest } from './raw-http.ts';

export interface FuzzContext {
  /** Bearer tokens: a project admin, a read-only member. */
  adminToken: string;
  readerToken: string;
  project: string;
  /** A stored Patient and the reader's membership (real ids, for reads only). */
  patientId: string;
  membershipId: string;
}

const TYPES = ['Patient', 'Observation', 'Encounter', 'AuditEvent', 'AccessPolicy', 'ProjectMembership', 'User', 'Binary', 'Nope', 'patient'];

function auth(r: Random, c: FuzzContext): [string, string][] {
  return r.pick<[string, string][]>([
    [['Authorization', `Bearer ${c.adminToken}`]],
    [['Authorization', `Bearer ${c.adminToken}`]],
    [['Authorization', `Bearer ${c.adminToken}`]],
    [['Authorization', `Bearer ${c.readerToken}`]],
    [['Authorization', `Bearer ${c.readerToken}`]],
    [],
    [['Authorization', 'Bearer not-a-token']],
    [['Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`]],
  ]);
}

function withBody(r: Random, method: string, target: string, headers: [string, string][], type?: string): RawRequest {
  // Mostly the right content type, so the body itself gets to be read.
  const contentType = r.chance(0.6) ? 'application/fhir+json' : hostileContentType(r);
  return { method, target, headers: contentType ? [...headers, ['Content-Type', contentType]] : headers, body: hostileBody(r, type) };
}

/** A hostile id: not a FHIR id, one that does not exist, or encoded junk. */
function badId(r: Random): string {
  return r.pick([
    () => encodeURIComponent(hostileText(r, 10).replace(/[\ud800-\udfff]/g, '\ufffd')),
    () => '00000000-0000-7000-8000-000000000000',
    () => 'x'.repeat(65),
    () => '%00',
    () => '..%2F..%2Fetc',
    () => hostileQueryValue(r),
  ])();
}

/** A JSON Patch that is always wrong: bad paths, values outside their type or value set, or junk. */
function hostilePatch(r: Random): Buffer {
  const op = r.pick(['add', 'replace', 'remove', 'move', 'copy', 'test', 'nope', '']);
  const path = r.pick(['/gender', '/birthDate', '/name/0/family', '/resourceType', '/id', '/meta/versionId', '', '/', `/${hostileText(r, 5)}`, '/name/99999999999']);
  const value = r.pick<unknown>(['banana', '2021-02-29', { __proto__: null, admin: true }, '\ud800', hostileJson(r), -1, null]);
  // The last operation always leaves a code outside its value set: even a patch whose first operation is
  // fine (remove /birthDate) must fail as a whole.
  const poison = { op: 'add', path: '/gender', value: r.pick(['banana', '\u0000', 'FEMALE']) };
  return Buffer.from(r.chance(0.8) ? JSON.stringify([{ op, path, value, from: '/nope' }, poison]) : JSON.stringify(hostileJson(r)));
}

function fhir(r: Random, c: FuzzContext): FuzzCase {
  // Writes mostly aim where they would land (a real type, an admin's session), so bodies get read.
  const type = r.chance(0.5) ? r.pick(['Patient', 'Observation', 'Encounter']) : r.pick(TYPES);
  const headers = r.chance(0.4) ? ([['Authorization', `Bearer ${c.adminToken}`]] as [string, string][]) : auth(r, c);
  switch (r.int(10)) {
    case 0:
    case 1:
      return { family: 'fhir-search', request: { method: r.pick(['GET', 'HEAD']), target: `/fhir/R4/${type}?${hostileQuery(r)}`, headers }, mayBeOk: true };
    case 2:
      return {
        family: 'fhir-read',
        request: { method: 'GET', target: r.chance(0.3) ? `/fhir/R4/Patient/${c.patientId}?${hostileQuery(r)}` : `/fhir/R4/${type}/${badId(r)}${r.pick(['', '/_history', `/_history/${badId(r)}`, '/$everything', `/${badId(r)}`])}`, headers },
        mayBeOk: true,
      };
    case 3:
      return { family: 'fhir-create', request: withBody(r, 'POST', `/fhir/R4/${type}${r.chance(0.2) ? `?${hostileQuery(r)}` : ''}`, r.chance(0.3) ? [...headers, ['If-None-Exist', `name=${hostileQueryValue(r)}`]] : headers, type), mayBeOk: false };
    case 4:
      return { family: 'fhir-update', request: withBody(r, 'PUT', `/fhir/R4/${type}/${r.chance(0.4) ? c.patientId : badId(r)}`, r.chance(0.3) ? [...headers, ['If-Match', r.pick(['W/"1"', 'W/"-1"', '*', 'W/"99999999999999999999"'])]] : headers, type), mayBeOk: false };
    case 5:
      // Conditional writes whose criteria can match nothing (a NUL first): a 2xx no-op is fine, a write is not.
      return { family: 'fhir-conditional', request: withBody(r, r.pick(['PUT', 'DELETE']), `/fhir/R4/${type}?name=%00${hostileQueryValue(r)}`, headers, type), mayBeOk: true };
    case 6:
      return {
        family: 'fhir-patch',
        request: { method: 'PATCH', target: `/fhir/R4/Patient/${r.chance(0.5) ? c.patientId : badId(r)}`, headers: [...headers, ['Content-Type', r.pick(['application/json-patch+json', 'application/fhir+json', 'text/plain'])]], body: hostilePatch(r) },
        mayBeOk: true, // `[]` is a patch that changes nothing: 200, and the store check still holds
      };
    case 7: {
      const entries = Array.from({ length: 1 + r.int(3) }, () => `{"request":{"method":${JSON.stringify(r.pick(['POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'TRACE', 7]))},"url":${JSON.stringify(r.pick([`${type}/${hostileText(r, 5)}`, type, `${type}?name=%00`, hostileText(r, 8)]))}},"fullUrl":"urn:uuid:${hostileText(r, 4)}","resource":${r.chance(0.8) ? hostileResourceText(r, type) : '7'}}`);
      const body = Buffer.from(`{"resourceType":"Bundle","type":${JSON.stringify(r.pick(['transaction', 'batch', 'collection', 'searchset', hostileText(r, 4)]))},"entry":[${entries.join(',')}]}`);
      // A batch answers 200 with each entry's own failure.
      return { family: 'fhir-bundle', request: { method: 'POST', target: r.pick(['/fhir/R4', '/fhir/R4/']), headers: [...headers, ['Content-Type', 'application/fhir+json']], body }, mayBeOk: true };
    }
    case 8:
      return { family: 'fhir-history', request: { method: 'GET', target: r.pick([`/fhir/R4/_history?${hostileQuery(r)}`, `/fhir/R4/${type}/_history?_since=${hostileQueryValue(r)}&_count=${hostileQueryValue(r)}`]), headers }, mayBeOk: true };
    default:
      return {
        family: 'fhir-search-post',
        request: { method: 'POST', target: `/fhir/R4/${type}/_search`, headers: [...headers, ['Content-Type', r.pick(['application/x-www-form-urlencoded', 'text/plain', 'application/json'])]], body: Buffer.from(r.chance(0.8) ? hostileQuery(r) : hostileBody(r).toString('latin1'), 'latin1') },
        mayBeOk: true,
      };
  }
}

function authFamily(r: Random, c: FuzzContext): FuzzCase {
  const route = r.pick(['/auth/login', '/auth/profile', '/auth/mfa/verify', '/oauth2/token', '/auth/unlock', '/auth/changepassword', '/auth/switch-role', '/auth/logout', '/oauth2/logout']);
  const json = () =>
    JSON.stringify(
      r.pick([
        () => ({ email: `admin\u0000@x.example`, password: hostileText(r), codeChallenge: hostileText(r), codeChallengeMethod: 'S256' }),
        () => ({ email: hostileText(r), password: 7, codeChallenge: 'x'.repeat(43), codeChallengeMethod: r.pick(['plain', 'S512', '\u0000']) }),
        () => ({ login: hostileText(r), profile: hostileText(r), token: hostileText(r, 8) }),
        () => ({ oldPassword: hostileText(r), newPassword: r.pick(['', 'short', '\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800']) }),
        () => ({ membership: r.pick([hostileText(r), '00000000-0000-7000-8000-000000000000']), password: hostileText(r) }),
        () => hostileJson(r),
      ])(),
    );
  const form = () => `grant_type=${r.pick(['authorization_code', 'client_credentials', 'refresh_token', 'password', hostileQueryValue(r)])}&code=${hostileQueryValue(r)}&code_verifier=${hostileQueryValue(r)}&client_id=${hostileQueryValue(r)}&refresh_token=${hostileQueryValue(r)}`;
  const isToken = route === '/oauth2/token';
  // Logout only ever with tokens that are not the suite's own: a real logout would end its session.
  const headers: [string, string][] = route.endsWith('logout') ? r.pick([[], [['Authorization', 'Bearer not-a-token']]]) : r.chance(0.3) ? [['Authorization', `Bearer ${c.readerToken}`]] : [];
  const contentType = r.chance(0.8) ? (isToken ? 'application/x-www-form-urlencoded' : 'application/json') : hostileContentType(r);
  return {
    family: 'auth',
    request: { method: r.chance(0.9) ? 'POST' : r.pick(['GET', 'PUT', 'DELETE']), target: route, headers: contentType ? [...headers, ['Content-Type', contentType]] : headers, body: Buffer.from(isToken ? form() : json()) },
    mayBeOk: route.endsWith('logout'), // logging out a session that is not there is a no-op
  };
}

function adminFamily(r: Random, c: FuzzContext): FuzzCase {
  const project = r.pick([c.project, badId(r)]);
  const member = badId(r); // never a real member: these routes change what they are given
  const target = r.pick([
    `/admin/projects/${project}/invite`,
    `/admin/projects/${project}/members/${member}/reset-password`,
    `/admin/projects/${project}/members/${member}/unlock`,
    `/admin/projects/${project}/members/${member}/deactivate`,
    `/admin/projects/${project}/members/${member}/activate`,
    `/outpost/setup`,
  ]);
  const body = JSON.stringify(
    r.pick([
      () => ({ resourceType: 'Practitioner', firstName: hostileText(r), lastName: '', email: `x\u0000@y`, password: 'short', membership: { admin: 'yes', accessPolicy: hostileText(r) } }),
      () => ({ resourceType: r.pick(['Patient', 'Nope', 7]), firstName: hostileText(r), email: hostileText(r), password: hostileText(r) }),
      () => ({ projectName: hostileText(r), email: hostileText(r), password: 'x' }),
      () => ({ password: r.pick(['', 'short', 7, null]) }),
      () => hostileJson(r),
    ])(),
  );
  if (r.chance(0.2)) {
    return { family: 'admin', request: { method: 'GET', target: r.pick([`/outpost/policy-review?membership=${hostileQueryValue(r)}`, '/outpost/setup', `/outpost/policy-review?${hostileQuery(r)}`]), headers: auth(r, c) }, mayBeOk: true };
  }
  return { family: 'admin', request: { method: 'POST', target, headers: [...auth(r, c), ['Content-Type', r.pick(['application/json', 'application/fhir+json', 'text/plain'])]], body: Buffer.from(body) }, mayBeOk: false };
}

function syncFamily(r: Random, c: FuzzContext): FuzzCase {
  const headers = auth(r, c);
  return r.pick<() => FuzzCase>([
    () => ({ family: 'sync', request: { method: 'GET', target: `/outpost/sync/status?${hostileQuery(r)}`, headers }, mayBeOk: true }),
    () => ({ family: 'sync', request: withBody(r, 'POST', '/outpost/sync/run', headers), mayBeOk: false }),
    () => ({
      family: 'sync',
      request: {
        method: 'PUT',
        target: '/outpost/sync/remote',
        headers: [...headers, ['Content-Type', 'application/json']],
        body: Buffer.from(JSON.stringify(r.pick([{ baseUrl: hostileText(r), token: '' }, { baseUrl: 'javascript:alert(1)', token: 'x' }, { baseUrl: 'http://127.0.0.1:1/fhir/R4', clientId: hostileText(r) }, hostileJson(r)]))),
      },
      mayBeOk: false,
    }),
    () => ({ family: 'sync', request: withBody(r, 'POST', `/outpost/sync/conflicts/${badId(r)}/resolve`, headers), mayBeOk: false }),
  ])();
}

function importFamily(r: Random, c: FuzzContext): FuzzCase {
  const name = r.chance(0.8) ? encodeURIComponent(`${hostileText(r, 10).replace(/[\ud800-\udfff]/g, '?')}${r.pick(['.json', '.ndjson', ''])}`) : hostileQueryValue(r);
  const body = r.chance(0.5) ? hostileBody(r) : Buffer.from(Array.from({ length: 1 + r.int(5) }, () => hostileResourceText(r)).join('\n'));
  const contentType = r.pick(['application/fhir+json', 'application/fhir+ndjson', 'text/plain', 'text/html', 'application/octet-stream']);
  return { family: 'import', request: { method: 'POST', target: `/outpost/import?name=${name}${r.chance(0.3) ? '&force=true' : ''}`, headers: [...auth(r, c), ['Content-Type', contentType]], body }, mayBeOk: false };
}

function headerFamily(r: Random, c: FuzzContext): FuzzCase {
  const name = r.pick(['If-Match', 'If-None-Exist', 'If-None-Match', 'Prefer', 'Authorization', 'Content-Type', 'Accept', 'X-Anything', 'Origin', 'Cookie']);
  const base = fhir(r, c);
  return { family: `header ${name}`, request: { ...base.request, headers: [...base.request.headers, [name, hostileHeaderValue(r)]] }, mayBeOk: base.mayBeOk };
}

function protocolFamily(r: Random, c: FuzzContext): FuzzCase {
  const headers = auth(r, c);
  return r.pick<() => FuzzCase>([
    () => ({ family: 'protocol', request: { method: r.pick(['GETT', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'OPTIONS']), target: '/fhir/R4/Patient', headers }, mayBeOk: false }),
    () => ({ family: 'protocol', request: { method: 'GET', target: '/fhir/R4/Patient', headers: [...headers, ['Upgrade', r.pick(['websocket', 'h2c', hostileQueryValue(r)])], ['Connection', 'Upgrade']] }, mayBeOk: true }), // refused over HTTP; over IPC the headers are only headers
    () => ({ family: 'protocol', request: { method: 'GET', target: `/fhir/R4/Patient?name=${'a'.repeat(17 * 1024)}`, headers }, mayBeOk: false }),
    () => ({ family: 'protocol', request: { method: 'GET', target: r.pick(['/fhir/R4/Pat ient', '/fhir/R4/\x00', 'http://evil.example/fhir/R4/Patient', '*', '/fhir/R4/%', '/fhir/R4/%zz', '/../../etc/passwd']), headers }, mayBeOk: false }),
    // A body that stops short of its stated length, a negative or absurd one, both lengths and chunked.
    () => ({ family: 'protocol', request: { method: 'POST', target: '/fhir/R4/Patient', headers: [...headers, ['Content-Type', 'application/fhir+json']], body: Buffer.from('{"resourceType":"Pat'), contentLength: r.pick(['-1', '1e3', 'abc', '99999999999999999999', '1 2']) }, mayBeOk: false }),
    () => ({ family: 'protocol', request: { method: 'POST', target: '/fhir/R4/Patient', headers: [...headers, ['Content-Type', 'application/fhir+json']], body: Buffer.from('{"resourceType":"Pat'), contentLength: '500', abortAfterMs: 50 + r.int(200) }, mayBeOk: false }),
    () => ({ family: 'protocol', request: { method: 'POST', target: '/fhir/R4/Patient', headers: [...headers, ['Transfer-Encoding', 'chunked'], ['Content-Type', 'application/fhir+json']], body: Buffer.from('5\r\n{"res\r\nzz\r\n'), contentLength: '5' }, mayBeOk: false }),
    // Over the size limit, stated and streamed.
    () => ({ family: 'protocol', request: { method: 'POST', target: '/fhir/R4/Patient', headers: [...headers, ['Content-Type', 'application/fhir+json']], body: Buffer.alloc(1024 * 1024 + 10, 0x20) }, mayBeOk: false }),
  ])();
}

/** One case from a family chosen at random (FHIR weighed most, as it has the most routes). */
export function fuzzCase(r: Random, c: FuzzContext): FuzzCase {
  return r.pick([fhir, fhir, fhir, fhir, authFamily, adminFamily, syncFamily, importFamily, headerFamily, headerFamily, protocolFamily])(r, c);
}
