// No audit event is lost and none takes the host down. Texts from requests and errors (a NUL in a
// search value, an id, a typed email) are stored escaped, in AuditEvents valid by construction
// (@medplum/core's validateResource agrees); a write the store refuses is retried, then kept in the
// data folder's spill file, which the next start stores and reports.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateResource } from '@medplum/core';
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { authAuditEvent, restAuditEvent } from '../../electron/host/audit/events.ts';
import { SYSTEM_AUDIT_PROJECT } from '../../electron/host/audit/log.ts';
import { AUDIT_SPILL_FILE } from '../../electron/host/audit/spill.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { createHost } from '../../electron/host/host.ts';
import { assertValidResource } from '../../electron/host/store/validation.ts';
import { createClinic, patient, type TestClinic } from '../access-enforce/helpers.ts';
import { tempDir } from '../host/helpers.ts';

let c: TestClinic | undefined;
const dirs: string[] = [];
afterEach(() => {
  c?.close();
  c = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every string inside a value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function auditEvents(clinic: TestClinic): AuditEvent[] {
  return (clinic.host.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'AuditEvent' ORDER BY rid").pluck().all() as string[]).map((x) => JSON.parse(x));
}

function loginBody(email: string) {
  return { email, password: 'whatever-it-is', codeChallenge: pkceChallenge('v'.repeat(43), 'S256'), codeChallengeMethod: 'S256' };
}

/** Makes every AuditEvent insert fail on this connection (a disk that refuses, a broken database). */
function refuseAuditWrites(clinic: TestClinic): () => void {
  const db = clinic.host.rawStore.db;
  db.exec(`CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON main.resource WHEN NEW.type = 'AuditEvent'
           BEGIN SELECT RAISE(ABORT, 'the disk refused the write (test)'); END`);
  return () => db.exec('DROP TRIGGER IF EXISTS temp.refuse_audit');
}

describe('texts from requests and errors', () => {
  it('a NUL or control character in a search value or a login email is audited escaped, and the host keeps answering', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    c = createClinic({ dataDir });
    const policy = c.policy([{ resourceType: 'Patient', readonly: true }]);
    const researcher = await c.person('Researcher', { accessPolicy: { reference: `AccessPolicy/${policy}` } });
    const token = await c.login(researcher.email);
    c.seed(patient('Present'));

    expect((await c.call(token, 'GET', 'Patient?birthdate=%00')).status).toBe(400);
    expect((await c.call(token, 'GET', 'Patient?_lastUpdated=%01')).status).toBe(400);
    const login = await c.call(undefined, 'POST', '/auth/login', loginBody('a\u0000b@example.org'));
    // Refused as any wrong login is (Medplum's 400 with its words), not with an internal audit error.
    expect(login.status).toBe(400);
    expect(login.text).toContain('Email or password is invalid');
    await turn(); // the deferred flush that used to throw and end the process
    await turn();

    expect((await c.call(token, 'GET', 'Patient')).status).toBe(200);
    const events = auditEvents(c);
    const descs = events.map((e) => e.outcomeDesc ?? '');
    expect(descs.some((d) => d.includes('birthdate') && d.includes('\\u0000'))).toBe(true);
    expect(descs.some((d) => d.includes('_lastUpdated') && d.includes('\\u0001'))).toBe(true);
    const failedLogin = events.find((e) => e.subtype?.some((s) => s.code === 'login-failure') && e.meta?.project === SYSTEM_AUDIT_PROJECT);
    expect(failedLogin?.agent?.[0]?.who).toEqual({ display: 'unknown (not an email address)' });
    for (const e of events) {
      expect(stringsOf(e).filter((x) => [...x].some((ch) => ch.charCodeAt(0) < 0x20))).toEqual([]);
      expect(() => validateResource(e), JSON.stringify(e)).not.toThrow();
    }
  });

  it('whatever text an event is built from, it is a valid AuditEvent (validateResource agrees)', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['\u0000', '\u0001', '\t', '\n', '\u007f', '\u0085', '\ud800', '\udfff', '\ud83d\ude00', ' ', 'é', 'x', '"', '\\', '𝄞', '\uffff'];
    const text = () => Array.from({ length: 1 + random(40) }, () => pieces[random(pieces.length)]).join('');
    for (let i = 0; i < 300; i++) {
      const rest = restAuditEvent({
        project: 'p',
        agent: { who: random(2) ? { reference: `Practitioner/${text()}` } : { display: text() }, user: { reference: text() }, name: text() },
        interaction: 'read',
        outcome: 'denied',
        reason: text(),
        entity: `Patient/${text()}`,
        query: text(),
        recorded: '2026-03-01T09:00:00.000Z',
      });
      const auth = authAuditEvent({ project: 'p', agent: { who: { display: text() } }, event: 'login-failure', outcome: 'denied', reason: text(), entity: text(), recorded: '2026-03-01T09:00:00.000Z' });
      for (const event of [rest, auth]) {
        expect(() => validateResource(event), JSON.stringify(event)).not.toThrow();
        expect(() => assertValidResource(event, 'structure'), JSON.stringify(event)).not.toThrow();
      }
    }
    expect(restAuditEvent({ project: 'p', agent: { who: { reference: 'Practitioner/1' } }, interaction: 'read', outcome: 'denied', entity: 'Patient/\u0001', recorded: '2026-03-01T09:00:00.000Z' }).entity).toEqual([
      { what: { display: 'Patient/\\u0001' } },
    ]);
  });

  it('an outcomeDesc is bounded and a whitespace-only reason is left out', async () => {
    c = createClinic();
    const who = await c.person('Reader', {});
    const token = await c.login(who.email);
    const long = encodeURIComponent('\u0007'.repeat(3000));
    expect((await c.call(token, 'GET', `Patient?birthdate=${long}`)).status).toBe(400);
    await turn();
    const desc = auditEvents(c).find((e) => e.outcomeDesc?.includes('birthdate'))?.outcomeDesc ?? '';
    expect(desc.length).toBeLessThanOrEqual(500);
    expect(desc.endsWith('…')).toBe(true);
    expect(desc).toContain('\\u0007');
  });
});

describe('an audit write the store refuses', () => {
  it('is retried, and stored once the store takes it again', async () => {
    c = createClinic();
    const who = await c.person('Reader', {});
    const token = await c.login(who.email);
    const before = auditEvents(c).length;
    const allow = refuseAuditWrites(c);
    expect((await c.call(token, 'GET', 'Patient')).status).toBe(200);
    await turn();
    expect(auditEvents(c).length).toBe(before);
    allow();
    await sleep(200); // the first retry comes 50 ms later
    const stored = auditEvents(c).slice(before);
    expect(stored.map((e) => e.subtype?.[0]?.code)).toEqual(['search-type']);
  });

  it('is kept in the spill file (sealed) when it still fails, and the next start stores it and reports it', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const key = 'spill-test-key';
    const logs: string[] = [];
    const first = createHost({ dataDir, key, log: (m) => logs.push(m), anonymous: 'system' });
    first.rawStore.create({ resourceType: 'Patient', name: [{ family: 'Spilled' }] });
    const db = first.rawStore.db;
    db.exec(`CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON main.resource WHEN NEW.type = 'AuditEvent'
             BEGIN SELECT RAISE(ABORT, 'the disk refused the write (test)'); END`);
    const reads = await first.handle({ method: 'GET', path: '/fhir/R4/Patient?name=Spilled', headers: {} });
    expect(reads.status).toBe(200);
    const bad = await first.handle({ method: 'GET', path: '/fhir/R4/Patient?birthdate=%00', headers: {} });
    expect(bad.status).toBe(400);
    await turn();
    const count = () => db.prepare("SELECT count(*) FROM resource WHERE type = 'AuditEvent'").pluck().get() as number;
    expect(count()).toBe(0);
    first.close(); // the last chance: what still fails goes to the file
    const file = join(dataDir, AUDIT_SPILL_FILE);
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).not.toContain('AuditEvent'); // sealed: the database is encrypted, so is this
    expect(logs.join('\n')).toContain(AUDIT_SPILL_FILE);

    const second = createHost({ dataDir, key, log: (m) => logs.push(m), anonymous: 'system' });
    try {
      expect(existsSync(file)).toBe(false);
      const stored = (second.rawStore.db.prepare("SELECT content FROM resource WHERE type = 'AuditEvent' ORDER BY rid").pluck().all() as string[]).map(
        (x) => JSON.parse(x) as AuditEvent,
      );
      const searches = stored.filter((e) => e.subtype?.[0]?.code === 'search-type');
      expect(searches.map((e) => e.outcome).sort()).toEqual(['0', '4']);
      expect(searches.find((e) => e.outcome === '4')?.outcomeDesc).toContain('\\u0000');
      const recovered = stored.find((e) => e.subtype?.some((s) => s.code === 'audit-recovered'));
      expect(recovered?.meta?.project).toBe(SYSTEM_AUDIT_PROJECT);
      expect(recovered?.outcomeDesc).toContain('stored 2 audit event(s)');
      expect(logs.join('\n')).toContain('stored 2 audit event(s)');
      // Queued for sync like any other AuditEvent.
      expect(second.rawStore.db.prepare('SELECT count(*) FROM audit_outbox').pluck().get()).toBe(stored.length);
    } finally {
      second.close();
    }
  });
});
