// Write interactions through the enforcement point. Each runs in one SQLite transaction with its
// AuditEvent: the access engine decides (decideWrite / decideDelete) with criteria answered by SQL;
// a resource that is not stored yet (a create, the new version of an update) is matched by writing
// it in a savepoint that is always rolled back, so chained criteria work for writes as for reads.
import type { AccessPolicy, ClientApplication, ProjectMembership, Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { decideDelete, decideWrite, normalizeAccessPolicy, validateAccessPolicy, type PolicyEntry } from './policy/index.ts';
import { applyFhirPathPatch, applyJsonPatch, newResourceId } from '../store/index.ts';
import { inTransaction } from '../db/transactions.ts';
import type { CallContext, WriteResult } from '../store/types.ts';
import type { Enforcer } from './context.ts';
import { assertChartsWritable, type VersionMatcher } from './compartments.ts';
import { readAs, searchAs } from './reads.ts';

class Probe extends Error {
  constructor(readonly matched: Map<PolicyEntry, boolean>, readonly patients: string[]) {
    super('probe');
  }
}

interface VersionProbe {
  /** Does the version match the entry? The stored one answers from its row, a new one by a probe write. */
  matches: VersionMatcher;
  /** The version's Patient compartments (as its index rows would have them). */
  patientsOf(resource: Resource): string[];
}

/**
 * Answers about a version from its stored row when `resource` is one (storedRid), else by writing it in
 * a savepoint that is always rolled back: the search module's own SQL then decides, chains included.
 */
function versionProbe(e: Enforcer, storedRid: Map<Resource, number>): VersionProbe {
  const probes = new WeakMap<Resource, Probe>();
  const probe = (resource: Resource, entries: PolicyEntry[]): Probe => {
    try {
      inTransaction(e.db, () => {
        const id = resource.id ?? newResourceId();
        e.deps.store.inCallerTransaction.update({ ...resource, id }, undefined, { project: e.p.project, validation: 'structure' });
        const rid = e.ridOf(resource.resourceType, id) as number;
        throw new Probe(new Map(entries.map((entry) => [entry, e.rowMatches(entry, resource.resourceType, rid)])), e.patientsOf(rid));
      });
    } catch (err) {
      if (err instanceof Probe) {
        return err;
      }
      throw err;
    }
    throw new Error('unreachable: a probe always rolls back');
  };
  const known = (resource: Resource, entry?: PolicyEntry): Probe => {
    let found = probes.get(resource);
    if (!found || (entry && !found.matched.has(entry))) {
      const type = resource.resourceType;
      const entries = [...new Set([...e.p.policy.entries.filter((x) => x.resourceType === type || x.resourceType === '*'), ...(entry ? [entry] : [])])];
      found = probe(resource, entries);
      probes.set(resource, found);
    }
    return found;
  };
  return {
    matches(entry, resource) {
      const type = resource.resourceType;
      if (e.p.compiler.fragment(entry, type) === null) {
        return !entry.matchesNothing;
      }
      const rid = storedRid.get(resource);
      if (rid !== undefined) {
        return e.rowMatches(entry, type, rid);
      }
      return known(resource, entry).matched.get(entry) ?? false;
    },
    patientsOf(resource) {
      const rid = storedRid.get(resource);
      return rid !== undefined ? e.patientsOf(rid) : known(resource).patients;
    },
  };
}

/** References to resources of another project are refused (nothing crosses projects, writes included). */
function assertReferencesInProject(e: Enforcer, resource: Resource): void {
  const refs: string[] = [];
  // Every string under a `reference` key (arrays keep their key), without allocating per object.
  const walk = (v: unknown, key: string): void => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], key);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        walk(o[k], k);
      }
    } else if (key === 'reference' && typeof v === 'string') {
      refs.push(v);
    }
  };
  walk(resource, '');
  for (const ref of refs) {
    const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (!m || (m[1] === 'Project' && m[2] === e.p.project) || e.minted.has(ref)) {
      continue;
    }
    // The enforcer's statement, prepared once: preparing here per write cost ~4% of a bulk import.
    const project = e.storedProject(m[1], m[2]);
    if (project !== undefined && project !== e.p.project) {
      throw errors.forbidden(`Reference ${ref} points outside this project`);
    }
  }
}

/** Type-specific rules of the admin types and the host's own AuditEvents, before the store write. */
function prepareAdminType<T extends Resource>(e: Enforcer, resource: T): { resource: T; clientSecret?: string } {
  switch (resource.resourceType) {
    case 'AuditEvent':
      throw errors.forbidden('AuditEvents are append-only and written by Outpost itself');
    case 'AccessPolicy': {
      validateAccessPolicy(resource as unknown as AccessPolicy);
      return { resource: normalizeAccessPolicy(resource as unknown as AccessPolicy).policy as unknown as T };
    }
    case 'ClientApplication': {
      const { secret, retiringSecret: _r, ...rest } = resource as unknown as ClientApplication;
      return { resource: rest as unknown as T, clientSecret: secret };
    }
    case 'ProjectMembership': {
      const project = (resource as unknown as ProjectMembership).project?.reference;
      if (project !== `Project/${e.p.project}`) {
        throw errors.forbidden('A membership must belong to this project');
      }
      return { resource };
    }
    case 'User': {
      const { passwordHash: _p, mfaSecret: _m, ...rest } = resource as unknown as Record<string, unknown>;
      return { resource: rest as unknown as T };
    }
    default:
      return { resource };
  }
}

/**
 * Medplum's server-owned meta. meta.compartment is computed, never a client's: a session's write keeps
 * the stored value (none on create). The account compartments (meta.accounts and its deprecated
 * single form meta.account, which `_compartment=Organization/x` criteria match) are set by project
 * admins; anyone else keeps the stored ones on update, so no one re-files an existing record into
 * another tenant's reach. On create they are taken as given and the policy's after-check decides.
 * The host's system context (import) is trusted as is.
 */
function protectMeta<T extends Resource>(e: Enforcer, resource: T, before: Resource | undefined): T {
  if (e.p.kind === 'system') {
    return resource;
  }
  const meta: Record<string, unknown> = { ...(resource.meta ?? {}) };
  const stored = (before?.meta ?? {}) as Record<string, unknown>;
  const keys = e.p.admin ? ['compartment'] : ['compartment', 'account', 'accounts'];
  let changed = false;
  for (const key of keys) {
    if ((key === 'compartment' || before) && meta[key] !== stored[key]) {
      changed = true;
      delete meta[key];
      if (stored[key] !== undefined) {
        meta[key] = stored[key];
      }
    }
  }
  if (!changed) {
    return resource;
  }
  const { meta: _given, ...rest } = resource;
  return (Object.keys(meta).length ? { ...rest, meta } : rest) as T;
}

function afterWrite(e: Enforcer, stored: Resource, clientSecret: string | undefined): void {
  if (stored.resourceType === 'ClientApplication' && clientSecret !== undefined && stored.id) {
    e.deps.auth?.setClientSecret(stored.id, clientSecret);
  }
  if (stored.resourceType === 'ProjectMembership' && stored.id && (stored as ProjectMembership).active === false) {
    e.deps.auth?.endSessionsForMembership(stored.id, 'membership deactivated');
  }
}

/** What the writer gets back: the stored version as this role reads it (write-only roles: as written). */
function answer<T extends Resource>(e: Enforcer, result: WriteResult<T>, decided: PolicyEntry): WriteResult<T> {
  // The row was just written in this principal's reach (e.row would find it): its rid is enough.
  const type = result.resource.resourceType;
  const rid = e.ridOf(type, result.resource.id ?? '');
  const readEntry = rid === undefined ? undefined : e.governing(type, 'read', rid);
  return { ...result, resource: e.present(result.resource, readEntry ?? decided) };
}

/** Create (id given: the id a transaction pre-assigned or an update-as-create). */
export function createAs<T extends Resource>(e: Enforcer, resource: T, opts: { ifNoneExist?: string } | undefined, callCtx?: CallContext, id?: string): WriteResult<T> {
  const type = resource?.resourceType;
  const target: { entity?: string } = { entity: id ? `${type}/${id}` : undefined };
  return e.audited('create', target, () => {
    e.requireType(type, 'create');
    if (opts?.ifNoneExist) {
      // The same guard and restriction as the role's own search: an If-None-Exist on a hidden field
      // (or a chain reaching one) must not answer "exists" by a 200 where a wrong guess gets a 201.
      const matches = visibleMatches(e, type, opts.ifNoneExist, callCtx);
      if (matches.length > 1) {
        throw errors.preconditionFailed(`If-None-Exist matched ${matches.length} resources: ${opts.ifNoneExist}`);
      }
      if (matches.length === 1) {
        return { status: 200 as const, resource: readAs<T>(e, 'read', type, matches[0], undefined, callCtx) };
      }
    }
    const prepared = prepareAdminType(e, resource);
    const after = protectMeta(e, prepared.resource, undefined);
    assertReferencesInProject(e, after);
    const probe = versionProbe(e, new Map());
    const decision = decideWrite({ policy: e.p.policy, after, matches: probe.matches, constraintsOf: e.p.constraintsOf });
    assertChartsWritable(e, 'create', decision.resource, () => probe.patientsOf(decision.resource), probe.matches);
    const toStore = id ? ({ ...decision.resource, id } as T) : decision.resource;
    const store = e.deps.store.inCallerTransaction; // audited(..., true): this create's own transaction, or its Bundle's
    const result = id ? store.update<T>(toStore, undefined, e.ctx(callCtx)) : store.create<T>(toStore, undefined, e.ctx(callCtx));
    afterWrite(e, result.resource, prepared.clientSecret);
    target.entity = `${type}/${result.resource.id}`; // the audit log's "What" of a create
    return answer(e, { ...result, status: 201 }, decision.entry);
  }, true);
}

function updateStored<T extends Resource>(e: Enforcer, interaction: 'update' | 'patch', type: string, id: string, makeAfter: (visible: T, before: T) => T, ifMatch: string | undefined, callCtx?: CallContext): WriteResult<T> {
  e.requireType(type, interaction);
  const row = e.row(type, id);
  if (!row) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  if (row.deleted) {
    throw errors.gone(`${type}/${id} was deleted`);
  }
  const before = JSON.parse(row.content) as T;
  const readEntry = e.governing(type, 'read', row.rid);
  if (!readEntry) {
    throw errors.notFound(`${type}/${id} not found`);
  }
  if (type === 'AuditEvent') {
    throw errors.forbidden('AuditEvents are append-only');
  }
  const after = makeAfter(readAs<T>(e, 'read', type, id, undefined, callCtx), before);
  if (after?.resourceType !== type || after.id !== id) {
    throw errors.badRequest('An update must not change resourceType or id', 'id');
  }
  const { meta: _m, ...withoutMeta } = after;
  const meta = stripMarkers(after.meta);
  const prepared = prepareAdminType(e, (meta ? { ...withoutMeta, meta } : withoutMeta) as T);
  const protectedAfter = protectMeta(e, prepared.resource, before);
  assertReferencesInProject(e, protectedAfter);
  const probe = versionProbe(e, new Map([[before, row.rid]]));
  const decision = decideWrite({ policy: e.p.policy, before, after: protectedAfter, matches: probe.matches, constraintsOf: e.p.constraintsOf });
  // Both versions: the update must neither reach into a chart nor change a record in a chart the role may not write.
  assertChartsWritable(e, 'update', before, () => probe.patientsOf(before), probe.matches);
  assertChartsWritable(e, 'update', decision.resource, () => probe.patientsOf(decision.resource), probe.matches);
  // row.project: the principal's project, or for its own Project resource wherever that row lives.
  const result = e.deps.store.inCallerTransaction.update<T>(decision.resource, ifMatch ? { ifMatch } : undefined, { ...e.ctx(callCtx), project: row.project });
  afterWrite(e, result.resource, prepared.clientSecret);
  return answer(e, result, decision.entry);
}

/** The host's masking marks are not data: a client sending them back must not store them. */
function stripMarkers(meta: Resource['meta']): Resource['meta'] {
  if (!meta) {
    return meta;
  }
  const out = { ...meta };
  out.tag = meta.tag?.filter((t) => !(t.system === 'https://outpost.local/fhir/CodeSystem/access' && t.code === 'masked'));
  out.extension = meta.extension?.filter((x) => x.url !== 'https://outpost.local/fhir/StructureDefinition/hidden-field');
  if (!out.tag?.length) delete out.tag;
  if (!out.extension?.length) delete out.extension;
  return out;
}

export function updateAs<T extends Resource>(e: Enforcer, resource: T, opts: { ifMatch?: string } | undefined, callCtx?: CallContext): WriteResult<T> {
  const type = resource?.resourceType;
  const id = resource?.id ?? '';
  if (!e.row(type, id) && e.storedProject(type, id) === undefined) {
    if (opts?.ifMatch !== undefined) {
      throw errors.preconditionFailed(`If-Match given, but ${type}/${id} does not exist`);
    }
    return createAs(e, resource, undefined, callCtx, id); // update as create: needs create permission
  }
  return e.audited('update', { entity: `${type}/${id}` }, () => updateStored<T>(e, 'update', type, id, () => resource, opts?.ifMatch, callCtx), true);
}

export function patchAs<T extends Resource>(e: Enforcer, type: string, id: string, patch: unknown, opts: { ifMatch?: string } | undefined, callCtx?: CallContext): WriteResult<T> {
  return e.audited('patch', { entity: `${type}/${id}` }, () =>
    updateStored<T>(e, 'patch', type, id, (visible, before) => {
      if (opts?.ifMatch !== undefined && !new RegExp(`^\\s*(W/)?"?${before.meta?.versionId}"?\\s*$`).test(opts.ifMatch)) {
        throw errors.preconditionFailed(`Version mismatch: the current version of ${type}/${id} is ${before.meta?.versionId}`);
      }
      // The patch applies to what this role sees: a `test` on a hidden path cannot probe its value.
      const base = { ...visible, meta: stripMarkers(visible.meta) } as T;
      if (Array.isArray(patch)) {
        return applyJsonPatch(base, patch);
      }
      if ((patch as Resource | undefined)?.resourceType === 'Parameters') {
        return applyFhirPathPatch(base, patch as never);
      }
      throw errors.badRequest('A patch must be a JSON Patch array or a FHIRPath Patch Parameters resource');
    }, undefined, callCtx), true);
}

export function deleteAs(e: Enforcer, type: string, id: string): void {
  e.audited('delete', { entity: `${type}/${id}` }, () => {
    e.requireType(type, 'delete');
    if (type === 'AuditEvent') {
      throw errors.forbidden('AuditEvents are append-only');
    }
    const row = e.row(type, id);
    if (!row) {
      throw errors.notFound(`${type}/${id} not found`);
    }
    if (row.deleted) {
      return;
    }
    if (!e.governing(type, 'read', row.rid)) {
      throw errors.notFound(`${type}/${id} not found`);
    }
    const stored = JSON.parse(row.content) as Resource;
    const probe = versionProbe(e, new Map([[stored, row.rid]]));
    decideDelete(e.p.policy, stored, (entry) => probe.matches(entry, stored));
    assertChartsWritable(e, 'delete', stored, () => probe.patientsOf(stored), probe.matches);
    e.deps.store.inCallerTransaction.delete(type, id, { project: row.project });
    if (type === 'ProjectMembership') {
      e.deps.auth?.endSessionsForMembership(id, 'membership deleted');
    }
  }, true);
}

/**
 * The visible matches of a search a request causes (If-None-Exist, conditional update, delete and
 * patch, conditional references in transactions): at most 2 looked at, through the role's own search,
 * so the same type permission, hidden-field guard and restriction apply as to a plain search.
 */
export function visibleMatches(e: Enforcer, type: string, query: string, callCtx?: CallContext): string[] {
  const found = searchAs(e, type, `${query.replace(/^\?/, '')}&_count=2&_total=none&_elements=id`, callCtx);
  return (found.entry ?? []).filter((x) => x.search?.mode !== 'include').map((x) => x.resource?.id ?? '').filter(Boolean);
}
