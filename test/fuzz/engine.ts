// Runs fuzz cases against a listening door and judges each answer: there must be one (no dropped
// connection), it must not be a 5xx, a 4xx must carry an OperationOutcome, a 2xx only where the case
// allows it, and the store must be exactly as before (row counts and a hash of every row). Every few
// requests the host must still answer /fhir/R4/metadata. A failure names the seed and the request,
// enough to replay it.
import { createHash } from 'node:crypto';
import type { HostResponse } from '../../shared/contract/host.ts';
import type { Db } from '../../electron/host/db/types.ts';
import { seededRandom, type FuzzCase, type Random } from './generators.ts';
import { sendRaw, type RawAnswer, type RawRequest } from './raw-http.ts';

/** The loopback HTTP adapter as the door. */
export const overHttp = (port: number) => (req: RawRequest): Promise<RawAnswer> => sendRaw(port, req);

/**
 * Electron's IPC door: the main process's request handler (envelope checks, then host.handle) with the
 * request as the renderer would send it, the body as a string, where it can also carry lone surrogates
 * (a UTF-8 body over HTTP cannot).
 */
export function overIpc(handler: (context: { senderUrl: string }, envelope: unknown) => Promise<HostResponse>, r: Random) {
  return async (req: RawRequest): Promise<RawAnswer> => {
    let body = req.body?.toString('utf8');
    if (body && r.chance(0.3)) {
      const at = r.int(body.length);
      body = `${body.slice(0, at)}${String.fromCharCode(0xd800 + r.int(0x800))}${body.slice(at)}`;
    }
    const envelope = { method: req.method, path: req.target, headers: Object.fromEntries(req.headers.map(([k, v]) => [k.toLowerCase(), v])), ...(body !== undefined ? { body } : {}) };
    const answer = await handler({ senderUrl: 'app://outpost/index.html' }, envelope);
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return { status: answer.status, headers: answer.headers, body: Buffer.from(text, 'utf8') };
  };
}

export interface FuzzRun {
  /** Sends one request through a door and brings back its answer. */
  send(req: RawRequest): Promise<RawAnswer>;
  db: Db;
  seed: number;
  count: number;
  next(r: Random): FuzzCase;
  /** Stop early after this many failures (the report lists them). */
  maxFailures?: number;
}

export interface FuzzReport {
  sent: number;
  byFamily: Record<string, number>;
  byStatus: Record<string, number>;
  failures: string[];
}

/** Row counts and a hash of every row of what a request may change: resources and their history, and the import ledger (AuditEvents and auth bookkeeping excluded). */
export function storeFingerprint(db: Db): string {
  const hash = createHash('sha256');
  for (const row of db.prepare("SELECT rid, type, id, version, deleted, content FROM resource WHERE type != 'AuditEvent' ORDER BY rid").iterate() as Iterable<Record<string, unknown>>) {
    hash.update(`${row.rid}|${row.type}|${row.id}|${row.version}|${row.deleted}|${row.content}\n`);
  }
  const counts = db
    .prepare(
      `SELECT (SELECT count(*) FROM resource WHERE type != 'AuditEvent') || '/' ||
              (SELECT count(*) FROM resource_history h JOIN resource r ON r.rid = h.rid WHERE r.type != 'AuditEvent') || '/' ||
              (SELECT count(*) FROM import_ledger)`,
    )
    .pluck()
    .get() as string;
  return `${counts}:${hash.digest('hex').slice(0, 16)}`;
}

function shown(req: RawRequest): string {
  const body = req.body ? ` body(${req.body.length} bytes)=${JSON.stringify(req.body.subarray(0, 300).toString('latin1'))}` : '';
  const headers = req.headers.map(([k, v]) => `${k}: ${JSON.stringify(v.slice(0, 120))}`).join('; ');
  return `${req.method} ${JSON.stringify(req.target.slice(0, 300))} [${headers}]${req.contentLength !== undefined ? ` content-length=${JSON.stringify(req.contentLength)}` : ''}${body}`;
}

function judge(c: FuzzCase, answer: RawAnswer): string | undefined {
  if ('aborted' in answer) {
    return undefined; // the client hung up on purpose; what counts is that the host still answers others
  }
  if ('dropped' in answer) {
    return `dropped: ${answer.dropped}`;
  }
  if (answer.status >= 500) {
    return `answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`;
  }
  if (answer.status >= 400) {
    if (c.request.method === 'HEAD' && answer.body.length === 0) {
      return undefined; // a HEAD answer has no body, by HTTP's rules: its status is the answer
    }
    let outcome: { resourceType?: string; error?: unknown } | undefined;
    try {
      outcome = JSON.parse(answer.body.toString('utf8'));
    } catch {
      outcome = undefined;
    }
    // The OAuth2 endpoints answer in OAuth2's own error format (RFC 6749 5.2), as Medplum's do.
    const oauth = c.request.target.startsWith('/oauth2/') && typeof outcome?.error === 'string';
    if (outcome?.resourceType !== 'OperationOutcome' && !oauth) {
      return `answered ${answer.status} without an OperationOutcome: ${JSON.stringify(answer.body.toString('utf8').slice(0, 200))}`;
    }
    return undefined;
  }
  if (!c.mayBeOk) {
    return `answered ${answer.status} to bad input: ${answer.body.toString('utf8').slice(0, 300)}`;
  }
  return undefined;
}

export async function runFuzz(run: FuzzRun): Promise<FuzzReport> {
  const r = seededRandom(run.seed);
  const report: FuzzReport = { sent: 0, byFamily: {}, byStatus: {}, failures: [] };
  const fail = (i: number, c: FuzzCase | undefined, why: string) =>
    report.failures.push(`seed ${run.seed}, request #${i}${c ? ` (${c.family})` : ''}: ${why}${c ? `\n    ${shown(c.request)}` : ''}`);
  let before = storeFingerprint(run.db);
  for (let i = 0; i < run.count && report.failures.length < (run.maxFailures ?? 10); i++) {
    const c = run.next(r);
    const answer = await run.send(c.request);
    report.sent++;
    report.byFamily[c.family.split(' ')[0]] = (report.byFamily[c.family.split(' ')[0]] ?? 0) + 1;
    const status = 'dropped' in answer ? 'dropped' : 'aborted' in answer ? 'aborted' : String(answer.status);
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    const why = judge(c, answer);
    if (why) fail(i, c, why);
    const after = storeFingerprint(run.db);
    if (after !== before) {
      fail(i, c, `the store changed: ${before} -> ${after}`);
      before = after;
    }
    if (i % 50 === 49) {
      const alive = await run.send({ method: 'GET', target: '/fhir/R4/metadata', headers: [] });
      if (!('status' in alive) || alive.status !== 200) {
        fail(i, c, `the host stopped answering after this request: ${JSON.stringify(alive).slice(0, 200)}`);
      }
    }
  }
  return report;
}
