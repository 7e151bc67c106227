// `outpost seed --demo`, the demo part of `outpost serve --demo`, `outpost policy-review` and
// `outpost unlock`.
import type { PolicyReview } from '../access/policy/index.ts';
import { reviewJson, reviewProject } from '../admin/index.ts';
import type { FailedReview } from '../admin/index.ts';
import { DEMO_LOGINS, DEMO_PASSWORD, DEMO_PROJECT_NAME, seedDemo } from '../seed/index.ts';
import { openData, type CliIo } from './commands.ts';

/** The demo logins as printed by `--demo` (and listed in the README). */
export function demoLoginsText(): string {
  const width = Math.max(...DEMO_LOGINS.map((l) => l.email.length));
  return (
    `Demo logins (password for all: ${DEMO_PASSWORD}):\n` +
    DEMO_LOGINS.map((l) => `  ${l.email.padEnd(width)}  ${l.who}: ${l.roles}`).join('\n') +
    '\n'
  );
}

/**
 * Seeds the demo clinic on an empty data folder; on a folder already seeded it only says so. Returns
 * the exit code: 1 when the folder holds another project (nothing is seeded there).
 */
export async function seedDemoCommand(dataDir: string, io: Pick<CliIo, 'stdout' | 'stderr'>): Promise<number> {
  const host = openData(dataDir, io);
  try {
    const result = await seedDemo(host);
    if (result.seeded) {
      io.stdout.write(`Seeded the demo clinic "${DEMO_PROJECT_NAME}": ${result.resources} resources in ${result.seconds.toFixed(1)} s\n`);
    } else if (result.demo) {
      io.stdout.write(`The demo clinic "${DEMO_PROJECT_NAME}" is already in ${dataDir}\n`);
    } else {
      io.stderr.write(`outpost: ${dataDir} already holds a project that is not the demo clinic: nothing seeded (use an empty --data folder)\n`);
      return 1;
    }
    io.stdout.write(demoLoginsText());
    return 0;
  } finally {
    host.close();
  }
}

/** One membership's review in words. */
export function formatReview(review: PolicyReview | FailedReview, names: { display?: string; user?: string }): string {
  const out: string[] = [];
  out.push(`${review.membership ?? '(membership)'}  ${names.display ?? ''} (${review.profile ?? 'no profile'})${names.user ? `  user ${names.user}` : ''}${review.admin ? '  [project admin]' : ''}`);
  const policies = review.policy.source.policies;
  out.push(`  Policies: ${policies.length ? policies.join(', ') : 'none (full access to non-admin types)'}`);
  if ('error' in review) {
    out.push(`  ERROR: ${review.error}`);
    return out.join('\n') + '\n';
  }
  out.push('  Effective policy:');
  for (const line of review.lines) {
    out.push(`    - ${line}`);
  }
  if (review.warnings.length) {
    out.push('  Warnings:');
    for (const w of review.warnings) {
      out.push(`    ! ${w.code}: ${w.message}`);
    }
  }
  const counts = (review.counts ?? []).filter((c) => c.count > 0);
  out.push(`  Can see: ${counts.length ? counts.map((c) => `${c.resourceType} ${c.count}`).join(', ') : 'nothing'}`);
  return out.join('\n') + '\n';
}

export function policyReviewCommand(dataDir: string, options: { membership?: string; json?: boolean }, io: Pick<CliIo, 'stdout' | 'stderr'>): number {
  const host = openData(dataDir, io);
  try {
    const membership = options.membership?.replace(/^ProjectMembership\//, '');
    const { directory } = host.auth;
    const all: { project: { id: string; name: string }; reviews: (PolicyReview | FailedReview)[] }[] = directory.projects().map((project) => ({
      project,
      reviews: reviewProject({ directory, access: host.access }, project.id, membership),
    }));
    const found = all.filter((p) => p.reviews.length);
    if (membership && !found.length) {
      io.stderr.write(`outpost: no membership ${membership} in ${dataDir}\n`);
      return 1;
    }
    if (options.json) {
      io.stdout.write(JSON.stringify(found.flatMap((p) => p.reviews.map((r) => ({ project: p.project, ...(reviewJson(r) as object) }))), null, 2) + '\n');
      return 0;
    }
    if (!found.length) {
      io.stdout.write(`No memberships in ${dataDir}\n`);
      return 0;
    }
    const displays = new Map<string, { display?: string; user?: string }>();
    for (const { project } of found) {
      for (const m of directory.membershipsOfProject(project.id)) {
        displays.set(`ProjectMembership/${m.id}`, { display: m.profile?.display, user: m.user?.display });
      }
    }
    for (const { project, reviews } of found) {
      io.stdout.write(`Project ${project.name} (Project/${project.id}): ${reviews.length} membership${reviews.length === 1 ? '' : 's'}\n\n`);
      for (const review of reviews) {
        io.stdout.write(formatReview(review, displays.get(review.membership ?? '') ?? {}) + '\n');
      }
    }
    return 0;
  } finally {
    host.close();
  }
}

/**
 * `outpost unlock <email>`: lifts the sign-in delay that failed attempts put on an account. The way back
 * in for a workstation owner whose only admin account someone kept failing to sign in to: it needs the
 * data folder and its key, that is the owner's own OS account, and it is audited.
 */
export function unlockCommand(dataDir: string, email: string, io: Pick<CliIo, 'stdout' | 'stderr'>): number {
  const host = openData(dataDir, io);
  try {
    const forgotten = host.auth.unlockLogin({ email }, 'outpost unlock (the command line of the workstation)');
    io.stdout.write(
      forgotten
        ? `Sign-in of ${email.trim().toLowerCase()} unlocked: ${forgotten} failed attempt${forgotten === 1 ? '' : 's'} forgotten\n`
        : `No failed sign-in attempts were recorded for ${email.trim().toLowerCase()}: nothing to unlock\n`,
    );
    return 0;
  } finally {
    host.close();
  }
}
