// Help texts of the `outpost` command line.

export const DEFAULT_PORT = 8103;

const DATA_OPTION = `  --data <dir>   Data folder (default: $OUTPOST_DATA_DIR, else the per-user folder:
                 Linux $XDG_DATA_HOME/outpost or ~/.local/share/outpost,
                 macOS ~/Library/Application Support/Outpost, Windows %APPDATA%\\Outpost)
  -h, --help     Show this help`;

export const USAGE: Record<string, string> = {
  main: `Usage: outpost <command> [options]

Outpost: an offline-first FHIR R4 store for clinics.

Commands:
  serve [--port <n>] [--demo] Serve the app and the API on 127.0.0.1 (browser mode); --demo seeds the demo clinic first
  import <file|folder>... [--force]
                              Import FHIR Bundles and NDJSON (.json, .ndjson, .json.gz, .ndjson.gz);
                              a re-run skips what was imported (--force imports it again)
  export <folder>             Export one <ResourceType>.ndjson per type (FHIR bulk-data layout)
  seed --demo                 Seed the demo clinic on an empty data folder and print its logins
  policy-review [--membership <id>] [--json]
                              Each membership's effective policy, warnings and what it can see
  unlock <email>              Lift the sign-in delay that failed attempts put on an account
  sync --remote <fhir base url> (--token <t> | --client-id <id> --client-secret <s>)
       [--pull-only|--push-only] [--tenant] [--json] [--project <id>]
                              Push local changes and AuditEvents to a FHIR server, then pull from it

Options (every command):
${DATA_OPTION}

Run 'outpost <command> --help' for a command's options.
`,
  serve: `Usage: outpost serve [--port <n>] [--demo] [--manual-sync] [--data <dir>]

Serves the app and the FHIR R4 API at http://127.0.0.1:<port>/ (loopback only) until Ctrl+C.
API requests need a session: sign in with POST /auth/login (Medplum's login flow; MedplumClient works).

Options:
  --port <n>     Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --demo         On an empty data folder, seed the demo clinic first and print its logins
                 (on a folder already seeded: just start)
  --manual-sync  Sync with a configured remote only when asked (Sync now, 'outpost sync');
                 without it, a configured remote syncs in the background as in the app
${DATA_OPTION}
`,
  import: `Usage: outpost import <file|folder>... [--force] [--data <dir>]

Loads transaction, batch and collection Bundles, single resources and NDJSON files
(.json, .ndjson, .json.gz, .ndjson.gz; folders are searched recursively).
A transaction Bundle is stored all or nothing; NDJSON is stored in chunks, keeping the ids it carries.
Shows a progress bar on a terminal and prints a summary with resources per second.
Exits 1 when anything failed to import.

Running it again is safe: every Bundle is recorded by its content (sha-256) when it commits, so an
import cut short (a crash, Ctrl+C, a power cut) goes on where it stopped, and files already imported
are skipped and reported ("nothing new" when every file was).

Options:
  --force        Import again what was imported before (new copies of resources without ids)
${DATA_OPTION}
`,
  export: `Usage: outpost export <folder> [--data <dir>]

Writes every stored resource as <folder>/<ResourceType>.ndjson (one per type, the FHIR bulk-data layout).
'outpost import <folder>' loads such a folder back.

Options:
${DATA_OPTION}
`,
  seed: `Usage: outpost seed --demo [--data <dir>]

Seeds the demo clinic of the user-management guide ("General Hospital - Main Campus": Dr. Sarah Chen,
Nurse Jennifer Williams, Robert Johnson, a researcher, an admin, their policies, patients and
observations) on an empty data folder and prints the demo logins. On a folder already seeded it only
prints them; a folder holding another project is left alone (exit code 1).

Options:
  --demo         The demo clinic (required)
${DATA_OPTION}
`,
  sync: `Usage: outpost sync --remote <fhir base url> (--token <t> | --client-id <id> --client-secret <s>)
                    [--pull-only|--push-only] [--tenant] [--json] [--project <id>] [--data <dir>]

One sync run of the data folder with a FHIR R4 server (Medplum or any other): push the local changes,
then the AuditEvents, then pull what changed remotely. The remote given here is used for this run only
and never saved; without --remote, the remote configured in the app for the project is used.
Prints a summary (pushed, pulled, conflicts, held). Exits 1 when a change is held or quarantined by
the remote, when the run failed (offline, credentials refused), or when another sync of this data
folder is running (the app's included); conflicts wait for a person in the app's sync panel.

Options:
  --remote <url>         FHIR base URL, e.g. https://api.medplum.com/fhir/R4/
  --token <t>            A bearer token (or set OUTPOST_REMOTE_TOKEN, which keeps it out of the process list)
  --client-id <id>       OAuth2 client credentials (a Medplum ClientApplication) ...
  --client-secret <s>    ... and its secret (or OUTPOST_CLIENT_SECRET)
  --token-url <url>      Token endpoint (default: <server>/oauth2/token, as on Medplum)
  --pull-only            Only pull
  --push-only            Only push (changes and AuditEvents)
  --tenant               Pull the whole project (an administrator's credentials: Project, policies,
                         users without secrets, memberships, clinical data) to bootstrap an empty
                         workstation; resumes where a killed run stopped. Shows progress on a terminal
  --project <id>         The project to sync (default: the default project)
  --json                 The summary as JSON
${DATA_OPTION}
`,
  'policy-review': `Usage: outpost policy-review [--membership <id>] [--json] [--data <dir>]

For each membership of each project (or one): the effective access policy after variable
substitution, in words; warnings (broad '*' without criteria, no policy, unfilled variables,
shadowed entries, hidden fields the same role can write); and how many resources of each type the
role can see, counted with the same SQL the host enforces.

Options:
  --membership <id>  Only this ProjectMembership
  --json             The reviews as JSON (the shape of GET /outpost/policy-review)
${DATA_OPTION}
`,
  unlock: `Usage: outpost unlock <email> [--data <dir>]

Failed sign-in attempts delay the next one (after 4 failures: 30 seconds, doubling with each further
failure up to 15 minutes). This lifts the delay of one account and forgets its failed attempts: the
way back in for a workstation owner locked out of their only administrator account (someone kept
trying its email). It needs the data folder and its key, so only the owner's OS account can run it.
Audited ('login-unlocked') in the account's projects. It does not change the password.

Options:
${DATA_OPTION}
`,
};
