// A tenant pull of a large project killed (SIGKILL of the child process running it) at ~60% resumes
// without gaps or duplicates: every remote resource is stored exactly once, under its id, with one
// version, and the resumed run reads no page again (it continues from the committed `next` link).
// Size: the 100,000 resources (OUTPOST_TENANT_KILL_SIZE to change it). On this 2-core machine it
// takes about 19 s when quiet and 85 s under heavy load (27 s of CPU), within the test's 240 s.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../electron/host/db/open.ts';
import { startPagingFhirServer, type PagingFhirServer } from '../helpers/fhir-paging.ts';
import { clinicalData } from './pull-helpers.ts';

const SIZE = Number(process.env.OUTPOST_TENANT_KILL_SIZE ?? 100_000);
const PATIENTS = Math.ceil(SIZE / 50);
const KILL_AT = 0.6;
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

let server: PagingFhirServer;
let dir: string;
let remoteIds: Map<string, string[]>;

beforeAll(async () => {
  server = await startPagingFhirServer();
  const seeded = server.seed(clinicalData(PATIENTS, SIZE / PATIENTS - 1));
  remoteIds = new Map();
  for (const r of seeded) {
    const list = remoteIds.get(r.resourceType) ?? [];
    list.push(r.id as string);
    remoteIds.set(r.resourceType, list);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-tenant-kill-'));
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface ChildRun {
  killed: boolean;
  lastDone: number;
  total: number;
  summary?: { pulled: number; deduped: number; total: number; resumedTypes: string[]; errors: string[] };
}

/** Runs the child; kills it with SIGKILL once its progress reaches `killAt` of the total (if given). */
function runChild(file: string, killAt?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test', 'sync', 'tenant-pull-child.ts'), file, server.baseUrl, server.token, '1000'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { killed: false, lastDone: 0, total: 0 };
    let buffered = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^progress (\d+) (\d+)$/.exec(line);
        if (m) {
          run.lastDone = Number(m[1]);
          run.total = Number(m[2]);
          if (killAt !== undefined && !run.killed && run.total > 0 && run.lastDone >= killAt * run.total) {
            run.killed = child.kill('SIGKILL');
          }
        } else if (line.startsWith('done ')) {
          run.summary = JSON.parse(line.slice(5)) as ChildRun['summary'];
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(run);
      else reject(new Error(`child exited with ${code}: ${err.slice(0, 2000)}`));
    });
  });
}

describe('tenant pull killed at ~60%', () => {
  it(`resumes without gaps or duplicates (${SIZE} resources)`, async () => {
    const file = path.join(dir, 'workstation.db');
    const first = await runChild(file, KILL_AT);
    expect(first.killed).toBe(true);
    expect(first.summary).toBeUndefined();
    expect(first.total).toBe(SIZE);

    // What the killed run committed is whole pages, consistent with its watermark rows.
    let db = openDatabase(file);
    const committed = db.prepare<[], number>('SELECT count(*) FROM resource').pluck().get() ?? 0;
    const progressed = db.prepare<[], number>('SELECT coalesce(sum(pulled), 0) FROM sync_watermark').pluck().get() ?? 0;
    db.close();
    expect(committed).toBeGreaterThanOrEqual(KILL_AT * SIZE - 1000);
    expect(committed).toBeLessThan(SIZE);
    expect(progressed).toBe(committed);

    server.syncSearches.length = 0;
    const second = await runChild(file);
    expect(second.summary).toMatchObject({ pulled: SIZE - committed, deduped: 0, errors: [] });
    expect(second.summary?.resumedTypes).toContain('Patient');
    // The type under way continued from its committed next link: no page was read from the start again.
    const observationPages = server.syncSearches.filter((u) => u.startsWith('Observation?') && !u.includes('_summary=count'));
    expect(observationPages[0]).toContain('_cursor=');

    db = openDatabase(file);
    try {
      for (const [type, ids] of remoteIds) {
        const local = db.prepare<[string], string>('SELECT id FROM resource WHERE type = ? ORDER BY id').pluck().all(type);
        expect(local.length).toBe(ids.length);
        expect(local).toEqual([...ids].sort());
      }
      // Each stored once: one version, one history row, one id-map row; nothing queued to push back.
      expect(db.prepare('SELECT count(*) FROM resource WHERE version <> 1 OR deleted <> 0').pluck().get()).toBe(0);
      expect(db.prepare('SELECT count(*) FROM resource_history').pluck().get()).toBe(SIZE);
      expect(db.prepare('SELECT count(*) FROM sync_id_map WHERE local_id = remote_id').pluck().get()).toBe(SIZE);
      expect(db.prepare('SELECT count(*) FROM sync_outbox').pluck().get()).toBe(0);
      expect(db.prepare("SELECT count(*) FROM sync_watermark WHERE type IN ('Patient', 'Observation') AND bootstrapped = 1 AND resume_url IS NULL").pluck().get()).toBe(2);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 240_000);
});
