// GET /fhir/R4/metadata: a CapabilityStatement that lists only what the host really does.
import { getResourceTypes } from '@medplum/core';
import type {
  ResourceType,
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
} from '@medplum/fhirtypes';
import { answeredSearchParams } from '../search/grammar.ts';
import { PROTECTED_TYPES } from '../access/policy/types.ts';

const TYPE_INTERACTIONS = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
] as const;

function searchParams(resourceType: string): CapabilityStatementRestResourceSearchParam[] {
  return answeredSearchParams(resourceType).map((p) => ({ ...p, type: p.type as CapabilityStatementRestResourceSearchParam['type'] }));
}

function resourceEntry(type: ResourceType): CapabilityStatementRestResource {
  return {
    type,
    interaction: TYPE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'multiple',
    conditionalRead: 'not-supported',
    referencePolicy: ['literal', 'local'],
    searchParam: searchParams(type),
  };
}

const UNREACHABLE_TYPES = new Set([...PROTECTED_TYPES, 'PasswordChangeRequest', 'UserSecurityRequest']);

/** Built once per host (the definitions are immutable); `url` is filled per request. */
export function buildCapabilityStatement(version: string, date: string): CapabilityStatement {
  // System internals no policy can reach (sessions, keys, logins, password requests) are not offered.
  const types = getResourceTypes().filter((t) => !UNREACHABLE_TYPES.has(t)).sort();
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    kind: 'instance',
    name: 'Outpost',
    title: 'Outpost FHIR R4 host',
    software: { name: 'Outpost', version },
    fhirVersion: '4.0.1',
    format: ['json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        resource: types.map(resourceEntry),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }, { code: 'history-system' }],
        searchParam: [
          { name: '_id', type: 'token' },
          { name: '_lastUpdated', type: 'date' },
          { name: '_tag', type: 'token' },
          { name: '_profile', type: 'uri' },
          { name: '_security', type: 'token' },
          { name: '_compartment', type: 'reference' },
          { name: '_count', type: 'number' },
          { name: '_offset', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_include', type: 'special' },
          { name: '_revinclude', type: 'special' },
          { name: '_total', type: 'special' },
          { name: '_summary', type: 'special' },
          { name: '_elements', type: 'special' },
          { name: '_has', type: 'special' },
        ],
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
      },
    ],
  };
}
