// What every part of the enforcement point shares for one principal: the raw store, the principal,
// audit, row lookups, visibility and masking. Kept apart from the interaction code so reads, writes,
// history and bundles use one definition of "visible" and one of "what leaves the host".
import type { Resource } from '@medplum/fhirtypes';
import { errors, outcomeText, toErrorResponse } from '../../../shared/errors.ts';
import { entriesFor, governingEntry, removeHiddenFields, type PolicyEntry, type RequestedInteraction } from './policy/index.ts';
import type { AuditLog } from '../audit/log.ts';
import type { SqlFragment } from '../db/types.ts';
import { inTransaction } from '../db/transactions.ts';
import type { CallContext, Store } from '../store/types.ts';
import { patientCompartments, resourceRow, resourceRowByRid, ridOf, storedProject, type ResourceRow } from '../db/resources.ts';
import type { Db } from '../db/types.ts';
import type { Principal } from './principal.ts';

export const ACCESS_TAG_SYSTEM = 'https://outpost.local/fhir/CodeSystem/access';
export const HIDDEN_FIELD_EXTENSION = 'https://outpost.local/fhir/StructureDefinition/hidden-field';

/** What the enforcement point needs from the auth service (admin-side hooks). */
export interface AuthHooks {
  setClientSecret(clientId: string, secret?: string): string;
  endSessionsForMembership(membershipId: string, reason?: string): number;
}

export interface EnforceDeps {
  store: Store;
  audit: AuditLog;
  auth?: AuthHooks;
}

export type Row = ResourceRow;

export interface Enforcer {
  deps: EnforceDeps;
  p: Principal;
  db: Db;
  /** The call context of the raw store: always the principal's project. */
  ctx(callCtx?: CallContext): CallContext;
  row(type: string, id: string): Row | undefined;
  /** The rid of a stored resource, whatever the principal may see (undefined: none stored). */
  ridOf(type: string, id: string): number | undefined;
  /** The Patient compartments of the stored current row `rid` (its index rows). */
  patientsOf(rid: number): string[];
  /**
   * `Type/id` of the ids the running transaction Bundle gave its POST entries (fresh UUIDv7s, stored
   * nowhere else): a reference to one of them stays in the project, no lookup needed.
   */
  minted: Set<string>;
  /** Does the stored current row `rid` satisfy the entry (its criteria asked of the index rows)? */
  rowMatches(entry: PolicyEntry, type: string, rid: number): boolean;
  /** The project a stored resource lives in, whatever the principal may see (undefined: none stored). */
  storedProject(type: string, id: string): string | undefined;
  /** 403 unless some entry lets this principal do `interaction` on `type`. */
  requireType(type: string, interaction: RequestedInteraction): void;
  /** Entries for (type, interaction), with the host's own rules for AuditEvent. */
  entries(type: string, interaction: RequestedInteraction): PolicyEntry[];
  /** The search restriction of a type as SQL over `resource r` (false: none visible; null: all). */
  restrict(type: string, interaction: RequestedInteraction): SqlFragment | null | false;
  /** The entry governing a stored row for a read-type interaction, or undefined when invisible. */
  governing(type: string, interaction: RequestedInteraction, rid: number): PolicyEntry | undefined;
  /** The resource as it may leave the host under `entry`: hidden fields removed and marked, secrets gone. */
  present<T extends Resource>(resource: T, entry: PolicyEntry | undefined): T;
  /** Runs one interaction and writes its AuditEvent (also when it fails: outcome 4 with the reason). */
  audited<T>(interaction: string, target: { entity?: string; query?: string }, fn: () => T, transactional?: boolean): T;
  /**
   * Runs a Bundle's entries, inside the Bundle's transaction (or each batch entry's savepoint). A
   * person's entries are audited one by one; the system context (bulk import) is audited once for the
   * whole Bundle, or an import would write an AuditEvent per resource.
   */
  bundleEntries<T>(fn: () => T): T;
}

/** Entries answering every AuditEvent read for admins (AuditEvents are the host's own, append-only). */
const AUDIT_READ: RequestedInteraction[] = ['read', 'vread', 'search', 'history'];
const SECRET_FIELDS: Record<string, string[]> = {
  User: ['passwordHash', 'mfaSecret'],
  ClientApplication: ['secret', 'retiringSecret'],
  Project: ['secret', 'systemSecret'],
};

export function stripSecrets<T extends Resource>(resource: T): T {
  const fields = SECRET_FIELDS[resource.resourceType];
  if (!fields || !fields.some((f) => f in resource)) {
    return resource;
  }
  const copy = { ...resource } as Record<string, unknown>;
  for (const f of fields) {
    delete copy[f];
  }
  return copy as T;
}

export function createEnforcer(deps: EnforceDeps, p: Principal): Enforcer {
  const db = deps.store.db;
  const auditAll: PolicyEntry = {
    resourceType: 'AuditEvent',
    interactions: new Set(['read', 'vread', 'search', 'history']),
    hiddenFields: [],
    readonlyFields: [],
    writeConstraints: [],
    matchesNothing: false,
    origin: { policy: '(audit)', index: 0 },
  };

  function entries(type: string, interaction: RequestedInteraction): PolicyEntry[] {
    if (type === 'AuditEvent') {
      return p.admin && AUDIT_READ.includes(interaction) ? [auditAll] : [];
    }
    return entriesFor(p.policy, type, interaction);
  }

  let quiet = 0;
  /** >0 while a Bundle's entries run: inside its transaction (or, for a batch, each entry's savepoint). */
  let bundleDepth = 0;
  const e: Enforcer = {
    bundleEntries(fn) {
      const quieted = p.kind === 'system' && p.audited;
      bundleDepth++;
      if (quieted) quiet++;
      try {
        return fn();
      } finally {
        bundleDepth--;
        if (quieted) quiet--;
      }
    },
    deps,
    p,
    db,
    minted: new Set(),
    ctx: (callCtx) => ({ ...callCtx, project: p.project, search: undefined }),
    row(type, id) {
      const row = resourceRow(db, type, id);
      if (!row) {
        return undefined;
      }
      // A project's own Project resource is stored wherever it was created; it belongs to itself.
      const inProject = row.project === p.project || (type === 'Project' && id === p.project);
      return inProject ? row : undefined;
    },
    ridOf: (type, id) => ridOf(db, type, id),
    // The index tables are read directly here: rows a transaction Bundle still buffers are written first.
    patientsOf: (rid) => {
      deps.store.flushIndex();
      return patientCompartments(db, rid);
    },
    rowMatches: (entry, type, rid) => {
      if (p.compiler.fragment(entry, type) === null) {
        return true; // an entry without criteria: no row to read
      }
      deps.store.flushIndex();
      return p.compiler.rowMatches(entry, type, rid);
    },
    storedProject: (type, id) => storedProject(db, type, id),
    requireType(type, interaction) {
      if (entries(type, interaction).length === 0) {
        throw errors.forbidden(`This role may not ${interaction === 'patch' ? 'update' : interaction} ${type}`);
      }
    },
    entries,
    restrict(type, interaction) {
      if (type === 'AuditEvent') {
        deps.audit.flush(); // queued events are part of what an admin searches
        return entries(type, interaction).length ? null : false;
      }
      const r = p.compiler.restriction(p.guard.restriction(type, interaction), type);
      if (type === 'Project' && r !== false) {
        const own: SqlFragment = { sql: 'r.id = ?', params: [p.project] };
        return r === null ? own : { sql: `(${r.sql}) AND r.id = ?`, params: [...r.params, p.project] };
      }
      return r;
    },
    governing(type, interaction, rid) {
      if (type === 'AuditEvent') {
        deps.audit.flush();
      }
      if (type === 'Project') {
        if (resourceRowByRid(db, rid)?.id !== p.project) {
          return undefined;
        }
      }
      return governingEntry(entries(type, interaction), (entry) => e.rowMatches(entry, type, rid));
    },
    present(resource, entry) {
      const hidden = entry?.hiddenFields ?? [];
      let out = stripSecrets(hidden.length ? removeHiddenFields(resource, hidden) : resource);
      if (hidden.length) {
        const meta = { ...(out.meta ?? {}) };
        meta.tag = [...(meta.tag ?? []).filter((t) => !(t.system === ACCESS_TAG_SYSTEM && t.code === 'masked')), { system: ACCESS_TAG_SYSTEM, code: 'masked' }];
        meta.extension = [
          ...(meta.extension ?? []).filter((x) => x.url !== HIDDEN_FIELD_EXTENSION),
          ...hidden.map((path) => ({ url: HIDDEN_FIELD_EXTENSION, valueString: path })),
        ];
        out = { ...out, meta };
      }
      return out;
    },
    audited(interaction, target, fn, transactional = false) {
      // Read when the event is written: a create names the id the store just assigned (target.entity).
      const base = () => ({ project: p.project, agent: p.agent, interaction, ...target });
      // A Bundle's entries run inside its transaction (a batch entry: inside its own savepoint), which
      // rolls back whatever a failing entry wrote. A savepoint per entry on top would only cost: SQLite
      // journals every page a savepoint changes and walks its sub-journal at each release.
      const unit = <R>(body: () => R): R => (transactional && bundleDepth === 0 ? inTransaction(db, body) : body());
      if (quiet > 0 || !p.audited) {
        return unit(fn);
      }
      let result: ReturnType<typeof fn>;
      try {
        if (transactional) {
          // The change and its AuditEvent commit together; a denial rolls back and is audited below.
          return unit(() => {
            const r = fn();
            deps.audit.rest({ ...base(), outcome: 'success' }, true);
            return r;
          });
        }
        result = fn();
      } catch (err) {
        const { status } = toErrorResponse(err);
        const reason = outcomeText(err, `HTTP ${status}`);
        deps.audit.rest({ ...base(), outcome: status >= 500 ? 'error' : 'denied', reason: `${status} ${reason}` });
        throw err;
      }
      deps.audit.rest({ ...base(), outcome: 'success' });
      return result;
    },
  };
  return e;
}
