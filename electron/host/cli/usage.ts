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
  serve [--port <n>]          Serve the FHIR API on 127.0.0.1 (browser mode)
  import <file|folder>...     Import FHIR Bundles and NDJSON (.json, .ndjson, .json.gz, .ndjson.gz)
  export <folder>             Export one <ResourceType>.ndjson per type (FHIR bulk-data layout)

Options (every command):
${DATA_OPTION}

Run 'outpost <command> --help' for a command's options.
`,
  serve: `Usage: outpost serve [--port <n>] [--data <dir>]

Serves the FHIR R4 API at http://127.0.0.1:<port>/fhir/R4/ (loopback only) until Ctrl+C.
Prints the URL and a bearer token, generated at each start and kept in <data>/http-token (mode 0600):
every request needs 'Authorization: Bearer <token>'.

Options:
  --port <n>     Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
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
};
