// Command-line flags of `npm run bench -- paths [flags]`.

export const SECTIONS = ['doors', 'pull', 'searches', 'chart', 'validation', 'audit', 'probe'] as const;
export type Section = (typeof SECTIONS)[number];

export interface PathsArgs {
  /** Resources to generate (whole Bundles until reached). 200,000 by default; `--million` is 1,000,000. */
  resources: number;
  /** Measured repetitions per clinic search (store vs floor). */
  reps: number;
  /** Requests per kind in the audit comparison; patients charted through each door. */
  requests: number;
  /** Resources in the validation sample. */
  validationSample: number;
  skip: Set<Section>;
  json: boolean;
  keep: boolean;
  seed: number;
  /** Internal: this process is the RSS probe child, reading its input from this file. */
  probeInput?: string;
}

export const USAGE =
  'npm run bench -- paths [--resources 200000 | --million] [--reps 200] [--requests 40] [--validation-sample 1500] ' +
  `[--skip ${SECTIONS.join(',')}] [--json] [--keep] [--seed n]`;

export function parsePathsArgs(argv: string[]): PathsArgs {
  const args: PathsArgs = { resources: 200_000, reps: 200, requests: 40, validationSample: 1_500, skip: new Set(), json: false, keep: false, seed: 20_260_101 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = (): number => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${flag} needs a whole number\n${USAGE}`);
      }
      return value;
    };
    switch (flag) {
      case '--resources':
        args.resources = number();
        break;
      case '--million':
        args.resources = 1_000_000;
        break;
      case '--reps':
        args.reps = number();
        break;
      case '--requests':
        args.requests = number();
        break;
      case '--validation-sample':
        args.validationSample = number();
        break;
      case '--skip':
        for (const s of (argv[++i] ?? '').split(',').filter(Boolean)) {
          if (!(SECTIONS as readonly string[]).includes(s)) {
            throw new Error(`Unknown section ${s}\n${USAGE}`);
          }
          args.skip.add(s as Section);
        }
        break;
      case '--json':
        args.json = true;
        break;
      case '--keep':
        args.keep = true;
        break;
      case '--seed':
        args.seed = number();
        break;
      case '--probe':
        args.probeInput = argv[++i];
        break;
      default:
        throw new Error(`Unknown flag ${flag}\n${USAGE}`);
    }
  }
  return args;
}
