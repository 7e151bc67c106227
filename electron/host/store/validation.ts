// Checks an incoming resource before it is written: a known resourceType, a valid FHIR id, and the R4
// StructureDefinitions (structure and FHIRPath invariants, as @medplum/core's validateResource checks
// them). Every failure is a 400 naming the path.
import { FHIR_ID_PATTERN } from '../../../shared/fhir/http.ts';
import { isResourceType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { errors } from '../../../shared/errors.ts';
import { loadFhirDefinitions } from '../fhir/definitions.ts';
import { assertInvariants } from './invariants.ts';
import { assertStructurallyValid } from './structure.ts';

export type ValidationMode = 'full' | 'structure';


export function isValidFhirId(id: unknown): id is string {
  return typeof id === 'string' && FHIR_ID_PATTERN.test(id);
}

export function assertResourceType(resourceType: unknown): asserts resourceType is string {
  loadFhirDefinitions();
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    throw errors.badRequest(`Unknown resource type: ${String(resourceType).slice(0, 64)}`, 'resourceType');
  }
}

export function assertFhirId(id: unknown, expression = 'id'): asserts id is string {
  if (!isValidFhirId(id)) {
    throw errors.badRequest(`Invalid id: ${String(id).slice(0, 80)}`, expression);
  }
}

/**
 * Validates against the R4 StructureDefinitions. Throws 400 with every error issue.
 * 'structure': the compiled structural check of structure.ts (required bindings, choice elements,
 * calendar dates, lone surrogates included), no invariants, for bulk ingest.
 * 'full' (default): the same check, then the FHIRPath invariants validateResource evaluates, compiled
 * (invariants.ts: the same issues, several times faster than validateResource's crawl).
 */
export function assertValidResource(resource: unknown, mode: ValidationMode = 'full'): asserts resource is Resource {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    throw errors.badRequest('The body must be a FHIR resource (a JSON object)');
  }
  const r = resource as Resource;
  assertResourceType(r.resourceType);
  if (r.id !== undefined) {
    assertFhirId(r.id);
  }
  assertStructurallyValid(r);
  if (mode === 'full') {
    assertInvariants(r);
  }
}
