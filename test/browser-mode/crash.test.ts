// Nothing a request does ends browser mode's process. The requests of issue 14 against `outpost serve
// --demo` (a NUL in a search value from the least privileged role, a NUL in a login email): answered
// 400, and the process still answers seconds later (the deferred audit flush used to throw and end it),
// with the AuditEvents stored, their text escaped. And failures no request handler can catch (an
// exception thrown from a timer, a rejection nobody handles), planted behind the same serve command:
// the request that caused each is answered 500 with an OperationOutcome, and the server keeps serving.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSTEM_AUDIT_PROJECT } from '../../electron/host/audit/log.ts';
import { pkceChallenge } from '../../electron/host/auth/tokens.ts';
import { readOrCreateDatabaseKey, databasePath } from '../../electron/host/paths.ts';
import { openDatabase } from '../../electron/host/db/open.ts';
import { repoRoot } from '../helpers/fixtures.ts';
import { startServe, type ServeProcess } from './serve-process.ts';

const PASSWORD = 'outpost-demo-1';
const VERIFIER = 'crash-test-verifier-0123456789abcdefghijklmnopqrstu';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function signIn(origin: string, email: string): Promise<string> {
  const login = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }),
  });
  const { code } = (await login.json()) as { code: string };
  const token = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: VERIFIER }).toString(),
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

let serve: ServeProcess | undefined;
let faulty: ChildProcess | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await serve?.stop();
  faulty?.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('outpost serve survives', () => {
  it("the issue's requests: 400, the process still answers, the AuditEvents are stored with the text escaped", async () => {
    serve = await startServe(path.join(repoRoot, 'bin', 'outpost.mjs'), {}, ['--demo']);
    const researcher = await signIn(serve.origin, 'researcher@demo.outpost');
    const auth = { authorization: `Bearer ${researcher}` };
    for (const query of ['Patient?birthdate=%00', 'Patient?_lastUpdated=%01']) {
      const res = await fetch(`${serve.origin}/fhir/R4/${query}`, { headers: auth });
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    const login = await fetch(`${serve.origin}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'x\u0000y@demo.outpost', password: 'whatever', codeChallenge: pkceChallenge(VERIFIER, 'S256'), codeChallengeMethod: 'S256' }),
    });
    expect(login.status).toBe(400);
    expect(await login.text()).toContain('Email or password is invalid');

    await sleep(2_500); // the process used to exit about 1.5 s after the first request
    expect((await fetch(`${serve.origin}/fhir/R4/metadata`)).status).toBe(200);
    expect((await fetch(`${serve.origin}/fhir/R4/Patient?_count=1`, { headers: auth })).status).toBe(200);

    const admin = await signIn(serve.origin, 'admin@demo.outpost');
    const found = await fetch(`${serve.origin}/fhir/R4/AuditEvent?outcome=4&_count=1000`, { headers: { authorization: `Bearer ${admin}` } });
    expect(found.status).toBe(200);
    const descs = (((await found.json()) as { entry?: { resource: AuditEvent }[] }).entry ?? []).map((e) => e.resource.outcomeDesc ?? '');
    expect(descs.find((d) => d.includes('birthdate'))).toContain('"\\u0000" is not a date');
    expect(descs.find((d) => d.includes('_lastUpdated'))).toContain('\\u0001');

    // The failed login belongs to no project: the system audit has it (read from the database file).
    const dataDir = serve.dataDir;
    await serve.stop({ keepData: true });
    serve = undefined;
    dirs.push(dataDir);
    const db = openDatabase(databasePath(dataDir), readOrCreateDatabaseKey(dataDir));
    try {
      const system = (db.prepare("SELECT content FROM resource WHERE type = 'AuditEvent' AND project = ?").pluck().all(SYSTEM_AUDIT_PROJECT) as string[]).map(
        (x) => JSON.parse(x) as AuditEvent,
      );
      expect(system.some((e) => e.subtype?.some((s) => s.code === 'login-failure') && e.agent?.[0]?.who?.display === 'unknown (not an email address)')).toBe(true);
    } finally {
      db.close();
    }
  }, 120_000);

  it('failures outside any handler: the request that caused each gets 500 with an OperationOutcome, the server keeps serving', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'outpost-faults-'));
    dirs.push(dataDir);
    faulty = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'browser-mode', 'fault-serve-child.ts'), dataDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    faulty.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    faulty.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let exited = false;
    faulty.once('exit', () => (exited = true));
    for (let i = 0; i < 900 && !/127\.0\.0\.1:\d+/.test(out); i++) {
      expect(exited, out).toBe(false);
      await sleep(100);
    }
    const origin = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)/.exec(out)![1]}`;

    for (const fault of ['throw-later', 'reject-detached', 'throw-later']) {
      const res = await fetch(`${origin}/outpost/test-faults/${fault}`);
      expect(res.status, fault).toBe(500);
      const body = (await res.json()) as { resourceType: string; issue: { details: { text: string } }[] };
      expect(body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(body)).not.toContain('planted'); // no internals in the answer
      expect((await fetch(`${origin}/fhir/R4/metadata`)).status).toBe(200);
    }
    const answered = await fetch(`${origin}/outpost/test-faults/throw-after-answer`);
    expect(answered.status).toBe(200);
    await sleep(100);
    expect((await fetch(`${origin}/fhir/R4/metadata`)).status).toBe(200);
    expect(exited).toBe(false);
    expect(out).toContain('uncaught exception during a request');
    expect(out).toContain('unhandled promise rejection during a request');
    expect(out).toContain('planted: thrown after the answer'); // logged, with its stack
  }, 120_000);
});
