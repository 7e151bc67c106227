// The write interactions (create, update, delete and their conditional forms), without transaction
// management: the public store wraps each call in one SQLite transaction, and a transaction Bundle
// runs many of them inside its single transaction.
import { newResourceId } from './ids.ts';
import { deepEquals } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { parseContent, projectOf, type ResourceRow, type StoreCore } from './core.ts';
import { applyFhirPathPatch, isFhirPathPatch } from './fhirpath-patch.ts';
import { applyJsonPatch, isJsonPatch } from './json-patch.ts';
import type { CallContext, WriteResult } from './types.ts';
import { assertFhirId, assertResourceType, assertValidResource } from './validation.ts';

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `W/"3"`, `"3"` or `3` -> 3. Anything else is a 400. */
export function parseIfMatch(ifMatch: string): number {
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(ifMatch);
  if (!m) {
    throw errors.badRequest(`Invalid If-Match header: ${ifMatch.slice(0, 64)}`, 'If-Match');
  }
  return Number(m[1]);
}

function checkIfMatch(row: ResourceRow, ifMatch: string | undefined): void {
  if (ifMatch === undefined) {
    return;
  }
  const expected = parseIfMatch(ifMatch);
  if (row.deleted || expected !== row.version) {
    throw errors.preconditionFailed(
      `Version mismatch: If-Match asks for version ${expected}, the current version of ${row.type}/${row.id} is ${row.version}`,
    );
  }
}

/**
 * The resource as stored: id and meta first, meta.versionId/lastUpdated/project the store's own.
 * Plain loops rather than rest destructuring: this runs once per ingested resource, and V8's
 * object-rest copy is several times slower.
 */
function stamp<T extends Resource>(resource: T, id: string, version: number, lastUpdated: Date, project: string): T {
  const meta: Record<string, unknown> = {};
  const clientMeta = resource.meta as Record<string, unknown> | undefined;
  if (clientMeta) {
    for (const k in clientMeta) {
      if (k !== 'versionId' && k !== 'lastUpdated' && k !== 'project') {
        meta[k] = clientMeta[k];
      }
    }
  }
  meta.versionId = String(version);
  meta.lastUpdated = lastUpdated.toISOString();
  meta.project = project;
  const out: Record<string, unknown> = { resourceType: resource.resourceType, id, meta };
  const source = resource as unknown as Record<string, unknown>;
  for (const k in source) {
    if (k !== 'resourceType' && k !== 'id' && k !== 'meta') {
      out[k] = source[k];
    }
  }
  return out as unknown as T;
}

/** Writes a brand-new row. `id` is pre-assigned by transactions (urn:uuid mapping) and by update-as-create. */
export function insertNew<T extends Resource>(
  core: StoreCore,
  resource: T,
  method: WriteMethod,
  ctx: CallContext | undefined,
  id: string = newResourceId(),
  validated = false,
): WriteResult<T> {
  if (!validated) {
    assertValidResource(resource, ctx?.validation);
  }
  const now = core.clock();
  const project = projectOf(core, ctx);
  const stored = stamp(resource, id, 1, now, project);
  const rid = Number(core.sql.insertResource.run(stored.resourceType, id, project, 1, now.getTime(), JSON.stringify(stored)).lastInsertRowid);
  core.sql.insertHistory.run(rid, 1, now.getTime(), 0, method);
  core.indexer.index(core.db, rid, stored);
  core.onChange?.(core.db, { op: 'create', resourceType: stored.resourceType, id, project, version: 1, resource: stored });
  return { status: 201, resource: stored };
}

/** Writes a new version over an existing row (live or deleted). */
function writeVersion<T extends Resource>(core: StoreCore, row: ResourceRow, resource: T, method: WriteMethod): WriteResult<T> {
  const now = core.clock();
  const version = row.version + 1;
  const stored = stamp(resource, row.id, version, now, row.project);
  const content = JSON.stringify(stored);
  if (!row.deleted) {
    core.sql.archiveVersion.run(row.content, row.rid, row.version);
    core.indexer.remove(core.db, row.rid);
  }
  core.sql.insertHistory.run(row.rid, version, now.getTime(), 0, method);
  core.sql.updateResource.run(version, now.getTime(), 0, content, row.rid);
  core.indexer.index(core.db, row.rid, stored);
  core.onChange?.(core.db, { op: 'update', resourceType: row.type, id: row.id, project: row.project, version, resource: stored });
  return { status: row.deleted ? 201 : 200, resource: stored };
}

export function createResource<T extends Resource>(
  core: StoreCore,
  resource: T,
  opts: { ifNoneExist?: string } | undefined,
  ctx: CallContext | undefined,
): WriteResult<T> {
  assertValidResource(resource, ctx?.validation);
  if (opts?.ifNoneExist) {
    const rids = core.findRids(core.db, resource.resourceType, stripQuestionMark(opts.ifNoneExist), { project: projectOf(core, ctx) });
    if (rids.length > 1) {
      throw errors.preconditionFailed(`If-None-Exist matched ${rids.length} resources: ${opts.ifNoneExist}`);
    }
    if (rids.length === 1) {
      const row = core.sql.byRid.get(rids[0]) as ResourceRow;
      return { status: 200, resource: parseContent<T>(row.content) };
    }
  }
  return insertNew(core, resource, 'POST', ctx, newResourceId(), true);
}

export function updateResource<T extends Resource>(
  core: StoreCore,
  resource: T,
  opts: { ifMatch?: string } | undefined,
  ctx: CallContext | undefined,
  method: WriteMethod = 'PUT',
): WriteResult<T> {
  assertValidResource(resource, ctx?.validation);
  if (resource.id === undefined) {
    throw errors.badRequest('An update needs the resource id', 'id');
  }
  const row = core.sql.byTypeId.get(resource.resourceType, resource.id);
  if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
    if (opts?.ifMatch !== undefined) {
      throw errors.preconditionFailed(`If-Match given, but ${resource.resourceType}/${resource.id} does not exist`);
    }
    if (row) {
      throw errors.conflict(`${resource.resourceType}/${resource.id} belongs to another project`);
    }
    return insertNew(core, resource, method, ctx, resource.id, true);
  }
  checkIfMatch(row, opts?.ifMatch);
  if (!row.deleted) {
    const current = parseContent<T>(row.content);
    const candidate = stamp(resource, row.id, row.version, new Date(row.last_updated), row.project);
    if (deepEquals(current, candidate)) {
      return { status: 200, resource: current, unchanged: true };
    }
  }
  return writeVersion(core, row, resource, method);
}

/** Deletes a live resource (soft). Missing -> 404 (as Medplum); already deleted -> no-op. */
export function deleteResource(core: StoreCore, resourceType: string, id: string, ctx: CallContext | undefined): void {
  assertResourceType(resourceType);
  const row = core.sql.byTypeId.get(resourceType, id);
  if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
    throw errors.notFound(`${resourceType}/${id} not found`);
  }
  deleteRow(core, row);
}

export function deleteRow(core: StoreCore, row: ResourceRow): void {
  if (row.deleted) {
    return;
  }
  const now = core.clock();
  const version = row.version + 1;
  core.sql.archiveVersion.run(row.content, row.rid, row.version);
  core.sql.insertHistory.run(row.rid, version, now.getTime(), 1, 'DELETE');
  // resource.content keeps the last live JSON (see schema.ts); deleted = 1 hides it from read and search.
  core.sql.updateResource.run(version, now.getTime(), 1, row.content, row.rid);
  core.indexer.remove(core.db, row.rid);
  core.onChange?.(core.db, { op: 'delete', resourceType: row.type, id: row.id, project: row.project, version });
}

export function conditionalUpdate<T extends Resource>(
  core: StoreCore,
  resourceType: string,
  query: string,
  resource: T,
  ctx: CallContext | undefined,
): WriteResult<T> {
  assertResourceType(resourceType);
  if (resource?.resourceType !== resourceType) {
    throw errors.badRequest(`The body's resourceType must be ${resourceType}`, 'resourceType');
  }
  const rids = core.findRids(core.db, resourceType, stripQuestionMark(query), { project: projectOf(core, ctx) });
  if (rids.length > 1) {
    throw errors.preconditionFailed(`Conditional update matched ${rids.length} resources: ${query}`);
  }
  if (rids.length === 0) {
    if (resource.id !== undefined) {
      assertFhirId(resource.id);
      if (core.sql.byTypeId.get(resourceType, resource.id)) {
        throw errors.conflict(`${resourceType}/${resource.id} exists but does not match ${query}`);
      }
      return updateResource(core, resource, undefined, ctx);
    }
    return createResource(core, resource, undefined, ctx);
  }
  const row = core.sql.byRid.get(rids[0]) as ResourceRow;
  if (resource.id !== undefined && resource.id !== row.id) {
    throw errors.badRequest(`The body's id (${resource.id}) differs from the matched resource (${row.id})`, 'id');
  }
  return updateResource(core, { ...resource, id: row.id }, undefined, ctx);
}

/** Deletes the one match of `query`; 0 matches -> 0 (nothing to do); several -> 412 (as Medplum). */
export function conditionalDelete(core: StoreCore, resourceType: string, query: string, ctx: CallContext | undefined): number {
  assertResourceType(resourceType);
  const rids = core.findRids(core.db, resourceType, stripQuestionMark(query), { project: projectOf(core, ctx) });
  if (rids.length > 1) {
    throw errors.preconditionFailed(`Conditional delete matched ${rids.length} resources: ${query}`);
  }
  for (const rid of rids) {
    deleteRow(core, core.sql.byRid.get(rid) as ResourceRow);
  }
  return rids.length;
}

/** PATCH Type?query: the one match is patched; none is 404, several 412 (as Medplum). */
export function conditionalPatch<T extends Resource>(core: StoreCore, resourceType: string, query: string, patch: unknown, ctx: CallContext | undefined): WriteResult<T> {
  assertResourceType(resourceType);
  const rids = core.findRids(core.db, resourceType, stripQuestionMark(query), { project: projectOf(core, ctx) });
  if (rids.length > 1) {
    throw errors.preconditionFailed(`Conditional patch matched ${rids.length} resources: ${query}`);
  }
  if (rids.length === 0) {
    throw errors.notFound(`No ${resourceType} matches ${query}`);
  }
  const row = core.sql.byRid.get(rids[0]) as ResourceRow;
  return patchResource<T>(core, resourceType, row.id, patch, undefined, ctx);
}

export function stripQuestionMark(query: string): string {
  return query.startsWith('?') ? query.slice(1) : query;
}


/** JSON Patch or FHIRPath Patch on the current version, then an ordinary update (validated, versioned). */
export function patchResource<T extends Resource>(
  core: StoreCore,
  resourceType: string,
  id: string,
  patch: unknown,
  opts: { ifMatch?: string } | undefined,
  ctx: CallContext | undefined,
): WriteResult<T> {
  assertResourceType(resourceType);
  const row = core.sql.byTypeId.get(resourceType, id);
  if (!row || (ctx?.project !== undefined && row.project !== ctx.project)) {
    throw errors.notFound(`${resourceType}/${id} not found`);
  }
  if (row.deleted) {
    throw errors.gone(`${resourceType}/${id} was deleted`);
  }
  checkIfMatch(row, opts?.ifMatch);
  const current = parseContent<T>(row.content);
  let patched: T;
  if (isJsonPatch(patch)) {
    patched = applyJsonPatch(current, patch);
  } else if (isFhirPathPatch(patch)) {
    patched = applyFhirPathPatch(current, patch);
  } else {
    throw errors.badRequest('A patch must be a JSON Patch array or a FHIRPath Patch Parameters resource');
  }
  if (patched?.resourceType !== resourceType || patched.id !== id) {
    throw errors.badRequest('A patch must not change resourceType or id', 'id');
  }
  return updateResource(core, patched, undefined, ctx, 'PATCH');
}
