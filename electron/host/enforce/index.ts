// The one enforcement point (see repository.ts). How to get a session-scoped repository:
//   const repo = host.access.forSession(session)   // a Store; every call checked and audited
//   const sys = host.access.system(projectId)       // the host's own direct commands (CLI), audited as system
export { createAccessRepository, principalOf } from './repository.ts';
export { createPrincipalCache } from './principal.ts';
export type { Principal, PrincipalCache } from './principal.ts';
export { ACCESS_TAG_SYSTEM, HIDDEN_FIELD_EXTENSION, stripSecrets } from './context.ts';
export type { AuthHooks, EnforceDeps } from './context.ts';
export { exportAs, exportTypes } from './export.ts';
export type { AccessExportSummary } from './export.ts';
