// Entry of the `outpost` command line (bin/outpost.mjs loads it through tsx).
// Unknown commands or flags print the usage on stderr and exit with code 2.
import { parseArgs } from 'node:util';
import { FhirError, outcomeText } from '../../../shared/errors.ts';
import { resolveDataDir } from '../paths.ts';
import { limitHeapGrowth } from '../process-memory.ts';
import { policyReviewCommand, seedDemoCommand, unlockCommand } from './admin-commands.ts';
import { exportCommand, importCommand, serveCommand, type CliIo } from './commands.ts';
import { remoteFromFlags, syncCommand, type SyncFlags } from './sync-command.ts';
import { DEFAULT_PORT, USAGE } from './usage.ts';

const COMMANDS = ['serve', 'import', 'export', 'seed', 'policy-review', 'sync', 'unlock'] as const;
type Command = (typeof COMMANDS)[number];

class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string = 'main'
  ) {
    super(message);
  }
}

function parse(command: Command, args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        data: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(command === 'serve' ? { port: { type: 'string' as const }, 'manual-sync': { type: 'boolean' as const } } : {}),
        ...(command === 'serve' || command === 'seed' ? { demo: { type: 'boolean' as const } } : {}),
        ...(command === 'import' ? { force: { type: 'boolean' as const } } : {}),
        ...(command === 'policy-review' ? { membership: { type: 'string' as const }, json: { type: 'boolean' as const } } : {}),
        ...(command === 'sync'
          ? {
              remote: { type: 'string' as const },
              token: { type: 'string' as const },
              'client-id': { type: 'string' as const },
              'client-secret': { type: 'string' as const },
              'token-url': { type: 'string' as const },
              project: { type: 'string' as const },
              'pull-only': { type: 'boolean' as const },
              'push-only': { type: 'boolean' as const },
              tenant: { type: 'boolean' as const },
              json: { type: 'boolean' as const },
            }
          : {}),
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
}

function parsePort(value: string | undefined): number {
  if (value === undefined) {
    return DEFAULT_PORT;
  }
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got '${value}'`, 'serve');
  }
  return port;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? io.stderr : io.stdout).write(USAGE.main);
    return first === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError(`Unknown command: ${first}`);
  }
  const command = first as Command;
  const { values, positionals } = parse(command, rest);
  if (values.help) {
    io.stdout.write(USAGE[command]);
    return 0;
  }
  const dataDir = resolveDataDir({ flag: values.data });
  switch (command) {
    case 'serve':
      if (positionals.length) {
        throw new UsageError(`serve takes no arguments, got '${positionals[0]}'`, command);
      }
    {
      const port = parsePort((values as { port?: string }).port);
      if ((values as { demo?: boolean }).demo) {
        // Seed first (or find the demo already there); a folder holding another project is served as it is.
        await seedDemoCommand(dataDir, io);
      }
      return serveCommand(dataDir, port, io, {}, { backgroundSync: !(values as { 'manual-sync'?: boolean })['manual-sync'] });
    }
    case 'import':
      if (!positionals.length) {
        throw new UsageError('import needs at least one file or folder', command);
      }
      return importCommand(dataDir, positionals, io, { force: (values as { force?: boolean }).force === true });
    case 'export':
      if (positionals.length !== 1) {
        throw new UsageError('export needs exactly one folder', command);
      }
      return exportCommand(dataDir, positionals[0], io);
    case 'seed':
      if (positionals.length || !(values as { demo?: boolean }).demo) {
        throw new UsageError('seed needs --demo (the only seed there is) and no arguments', command);
      }
      return seedDemoCommand(dataDir, io);
    case 'unlock':
      if (positionals.length !== 1 || !positionals[0].includes('@')) {
        throw new UsageError('unlock needs exactly one email address', command);
      }
      return unlockCommand(dataDir, positionals[0], io);
    case 'policy-review':
      if (positionals.length) {
        throw new UsageError(`policy-review takes no arguments, got '${positionals[0]}'`, command);
      }
      return policyReviewCommand(dataDir, values as { membership?: string; json?: boolean }, io);
    case 'sync': {
      if (positionals.length) {
        throw new UsageError(`sync takes no arguments, got '${positionals[0]}'`, command);
      }
      const flags = values as SyncFlags;
      try {
        remoteFromFlags(flags);
        if (flags['pull-only'] && flags['push-only']) {
          throw new Error('--pull-only and --push-only exclude each other');
        }
      } catch (err) {
        throw new UsageError(err instanceof FhirError ? (err.outcome.issue?.[0]?.details?.text ?? err.message) : (err as Error).message, command);
      }
      return syncCommand(dataDir, flags, io);
    }
  }
}

/** A failure as a person should read it: expected ones by their message, anything else with its stack. */
function describe(err: unknown): string {
  if (err instanceof FhirError) {
    return outcomeText(err, err.message);
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EADDRINUSE' || code === 'EACCES' || code === 'EPERM' || /key file .* is missing/.test(String((err as Error)?.message))) {
    return (err as Error).message;
  }
  return (err as Error)?.stack ?? String(err);
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io?: Partial<CliIo>): Promise<number> {
  limitHeapGrowth(); // this is the process's entry (bin/outpost.mjs and dist/host/cli.js call main first)
  const full: CliIo = {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    waitForStop:
      io?.waitForStop ??
      (() =>
        new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        })),
  };
  try {
    return await run(argv, full);
  } catch (err) {
    if (err instanceof UsageError) {
      full.stderr.write(`outpost: ${err.message}\n\n${USAGE[err.command] ?? USAGE.main}`);
      return 2;
    }
    full.stderr.write(`outpost: ${describe(err)}\n`);
    return 1;
  }
}
