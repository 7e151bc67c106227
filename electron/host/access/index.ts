// The access domain: the pure policy engine (./policy) and the one enforcement point built on it
// (repository.ts and its parts: reads, writes, bundles, history, export, compartments). How to get a
// repository:
//   const repo = host.access.forSession(session)   // every call checked and audited as the session
//   const sys = host.access.system(projectId)       // the host's own work (import, sync, seed), audited as system
export { createAccessRepository, principalOf } from './repository.ts';
export type { Repository, CallContext, HistoryQuery, WriteResult } from './repository.ts';
export { createAccess } from './service.ts';
export type { Access, AccessOptions } from './service.ts';
export type { Credentials, UserSecrets } from './credentials.ts';
export type { PreviewOptions, SystemOptions } from './principal.ts';
export { createPrincipalCache } from './principal.ts';
export type { Principal, PrincipalCache } from './principal.ts';
export { ACCESS_TAG_SYSTEM, HIDDEN_FIELD_EXTENSION, stripSecrets } from './context.ts';
export type { AuthHooks, EnforceDeps } from './context.ts';
export { exportAs, exportTypes } from './export.ts';
export type { AccessExportSummary } from './export.ts';
export { createReplica } from './replica.ts';
export type { Replica, StoreChange } from './replica.ts';
