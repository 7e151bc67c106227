// `outpost sync`: one sync run of a data folder with a remote, from the command line. The remote is the
// one given (--remote with --token, or --client-id and --client-secret; used for this run only) or,
// without --remote, the one configured in the app for the project. A tenant bootstrap (--tenant) keeps
// the remote it was given, its secret sealed as the app seals it: the bootstrapped folder syncs with it
// from then on, and its members' first sign-ins are checked against it (nobody could configure it
// otherwise: the folder has no local administrator yet). Prints a summary; exits 1 when something is
// held (or quarantined), when the run failed, or when another sync is running.
import { errors } from '../../../shared/errors.ts';
import { DEFAULT_PROJECT_ID } from '../db/project.ts';
import { normalizeBaseUrl, type RemoteSettings } from '../sync/config.ts';
import type { SyncRunSummary } from '../../../shared/contract/sync.ts';
import { openSync, type CliIo } from './commands.ts';

export interface SyncFlags {
  remote?: string;
  token?: string;
  'client-id'?: string;
  'client-secret'?: string;
  'token-url'?: string;
  project?: string;
  'pull-only'?: boolean;
  'push-only'?: boolean;
  tenant?: boolean;
  json?: boolean;
}

/** The remote of the flags (secrets may come from OUTPOST_REMOTE_TOKEN / OUTPOST_CLIENT_SECRET instead). */
export function remoteFromFlags(flags: SyncFlags, env: NodeJS.ProcessEnv = process.env): RemoteSettings | undefined {
  const token = flags.token ?? env.OUTPOST_REMOTE_TOKEN;
  const clientSecret = flags['client-secret'] ?? env.OUTPOST_CLIENT_SECRET;
  if (!flags.remote) {
    if (flags.token || flags['client-id'] || flags['client-secret']) {
      throw errors.badRequest('--token, --client-id and --client-secret go with --remote');
    }
    return undefined;
  }
  const baseUrl = normalizeBaseUrl(flags.remote, '--remote');
  if (flags['client-id']) {
    if (flags.token) {
      throw errors.badRequest('Give either --token or --client-id with --client-secret, not both');
    }
    if (!clientSecret) {
      throw errors.badRequest('--client-id needs --client-secret (or OUTPOST_CLIENT_SECRET)');
    }
    return { baseUrl, auth: 'client-credentials', clientId: flags['client-id'], clientSecret, tokenUrl: flags['token-url'] };
  }
  if (!token) {
    throw errors.badRequest('--remote needs --token (or OUTPOST_REMOTE_TOKEN), or --client-id and --client-secret');
  }
  return { baseUrl, auth: 'token', token };
}

function line(summary: SyncRunSummary): string {
  const parts = [`pushed ${summary.pushed}`, `pulled ${summary.pulled}`, `conflicts ${summary.conflicts}`, `held ${summary.held + summary.quarantined}`];
  if (summary.deleted) parts.push(`deleted ${summary.deleted}`);
  if (summary.retryLater) parts.push(`to retry ${summary.retryLater}`);
  if (summary.keptLocal) parts.push(`kept on this workstation ${summary.keptLocal}`);
  if (summary.quotaWaitMs) parts.push(`waited ${Math.round(summary.quotaWaitMs / 1000)} s for the remote's quota`);
  if (summary.auditPushed) parts.push(`audit events ${summary.auditPushed}`);
  return parts.join(', ');
}

export async function syncCommand(dataDir: string, flags: SyncFlags, io: CliIo): Promise<number> {
  if (flags['pull-only'] && flags['push-only']) {
    throw errors.badRequest('--pull-only and --push-only exclude each other');
  }
  const remote = remoteFromFlags(flags);
  const host = openSync(dataDir, io);
  try {
    const project = flags.project ?? DEFAULT_PROJECT_ID;
    if (!remote && !host.sync.config.get(project)) {
      throw errors.badRequest(`Project ${project} has no remote configured: give --remote and its credentials`);
    }
    let lastDraw = 0;
    const stopProgress = io.stderr.isTTY
      ? host.sync.runner.onProgress((p) => {
          if (Date.now() - lastDraw > 100) {
            lastDraw = Date.now();
            io.stderr.write(`\r${p.phase}${p.type ? ` ${p.type}` : ''}: ${p.done}${p.total !== undefined ? `/${p.total}` : ''}        `);
          }
        })
      : () => undefined;
    if (flags.tenant && flags['push-only']) {
      throw errors.badRequest('--tenant is a pull: it does not go with --push-only');
    }
    if (flags.tenant && remote) {
      host.sync.config.set(
        project,
        remote.auth === 'token'
          ? { baseUrl: remote.baseUrl, token: remote.token ?? '' }
          : { baseUrl: remote.baseUrl, clientId: remote.clientId ?? '', clientSecret: remote.clientSecret ?? '', tokenUrl: remote.tokenUrl },
      );
    }
    const result = await host.sync.runner.run({ project, remote, pullOnly: flags['pull-only'], pushOnly: flags['push-only'], tenant: flags.tenant });
    stopProgress();
    if (io.stderr.isTTY && lastDraw) io.stderr.write('\n');
    if ('alreadyRunning' in result) {
      if (flags.json) io.stdout.write(JSON.stringify(result) + '\n');
      io.stderr.write('outpost: another sync of this data folder is running; try again when it ends\n');
      return 1;
    }
    if (flags.json) {
      io.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      io.stdout.write(`Synced project ${project}: ${line(result)}\n`);
      if (result.conflicts) io.stdout.write(`${result.conflicts} conflict(s) wait for a person: resolve them in the app's sync panel\n`);
      if (result.held + result.quarantined) io.stdout.write(`${result.held + result.quarantined} change(s) held by the remote: see the sync panel for the reasons\n`);
    }
    for (const message of result.errors) io.stderr.write(`outpost: sync: ${message}\n`);
    return result.held + result.quarantined > 0 || result.errors.length > 0 ? 1 : 0;
  } finally {
    host.close();
  }
}
