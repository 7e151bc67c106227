// The contract of the host's own API: every route that is not the FHIR REST API, by domain. The host
// serves each entry (electron/host/routes: `route(entry, handler)`) and validates with its schemas; the
// renderer's client (renderer/src/api/host-api.ts) calls them by entry, typed by the same schemas.
import { adminContract } from './admin.ts';
import { authContract } from './auth.ts';
import type { RouteContract } from './route.ts';
import { syncContract } from './sync.ts';
import { transferContract } from './transfer.ts';

export const contract = {
  auth: authContract,
  admin: adminContract,
  sync: syncContract,
  transfer: transferContract,
};

/** Every entry of the contract, for checks that walk them all. */
export function contractRoutes(): RouteContract[] {
  return Object.values(contract).flatMap((domain) => Object.values(domain) as RouteContract[]);
}

export type { RouteContract, RouteInput, RouteReply, RouteRequestOf } from './route.ts';
export type { Me } from './auth.ts';
export type { InviteBody, PolicyReview, SetupBody } from './admin.ts';
export type { RemoteInput, ResolveChoice, SyncChange, SyncConflictView, SyncProgress, SyncRemoteView, SyncRunSummary, SyncStatus } from './sync.ts';
