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
  import <file|folder>...     Import FHIR Bundles and NDJSON (.json, .ndjson, .json.gz, .ndjson.gz)
  export <folder>             Export one <ResourceType>.ndjson per type (FHIR bulk-data layout)
  seed --demo                 Seed the demo clinic on an empty data folder and print its logins
  policy-review [--membership <id>] [--json]
                              Each membership's effective policy, warnings and what it can see

Options (every command):
${DATA_OPTION}

Run 'outpost <command> --help' for a command's options.
`,
  serve: `Usage: outpost serve [--port <n>] [--demo] [--data <dir>]

Serves the FHIR R4 API at http://127.0.0.1:<port>/fhir/R4/ (loopback only) until Ctrl+C.
Prints the URL and a bearer token, generated at each start and kept in <data>/http-token (mode 0600):
every request needs 'Authorization: Bearer <token>'.

Options:
  --port <n>     Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --demo         On an empty data folder, seed the demo clinic first and print its logins
                 (on a folder already seeded: just start)
${DATA_OPTION}
`,
  import: `Usage: outpost import <file|folder>... [--data <dir>]

Loads transaction, batch and collection Bundles, single resources and NDJSON files
(.json, .ndjson, .json.gz, .ndjson.gz; folders are searched recursively).
A transaction Bundle is stored all or nothing; NDJSON is stored in chunks, keeping the ids it carries.
Shows a progress bar on a terminal and prints a summary with resources per second.
Exits 1 when anything failed to import.

Options:
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
};
