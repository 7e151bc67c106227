// Command-line flags of `npm run bench -- store [flags]`.

export interface BenchArgs {
  /** Resources to generate (whole Bundles until reached). */
  resources: number;
  /** Measured repetitions per search (varied parameter values). */
  reps: number;
  /**
   * Resources loaded into MemoryRepository (0 skips it). Default: 20,000 at most, since its scans cost
   * up to 4 ms per resource (matchesSearchRequest evaluates the shared FHIRPath unions of R4
   * parameters like Encounter `patient` and `date`): one Encounter search over 200k would take ~70 s.
   */
  memoryResources: number;
  /** Also ingest into an unencrypted store. */
  plain: boolean;
  /**
   * Also ingest with full validation (validateResource with FHIRPath invariants: the REST path). Off by
   * default: at ~1/3 of the structural path's speed it would dominate a 200k run.
   */
  fullValidation: boolean;
  json: boolean;
  /** Keep the temporary folder (its path is printed). */
  keep: boolean;
  seed: number;
  /** Run the RSS probe child process (default on). */
  rssProbe: boolean;
  /** V8 old-space cap (MB) for the probe child, as the app could set for its host process (0 = node's default). */
  probeMaxOldSpace: number;
  /** Internal: this process is the RSS probe child, reading its input from this file. */
  probeInput?: string;
}

export const DEFAULT_MEMORY_RESOURCES = 20_000;

export const USAGE = `npm run bench -- store [--resources 200000] [--reps 300] [--memory-resources <n>|0] [--no-plain] [--full-validation] [--no-rss-probe] [--probe-max-old-space <MB>] [--json] [--keep] [--seed n]`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { resources: 200_000, reps: 300, memoryResources: -1, plain: true, fullValidation: false, json: false, keep: false, seed: 20_260_101, rssProbe: true, probeMaxOldSpace: 0 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = (): number => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`${flag} needs a whole number\n${USAGE}`);
      }
      return value;
    };
    switch (flag) {
      case '--resources':
        args.resources = number();
        break;
      case '--reps':
        args.reps = number();
        break;
      case '--memory-resources':
        args.memoryResources = number();
        break;
      case '--no-plain':
        args.plain = false;
        break;
      case '--full-validation':
        args.fullValidation = true;
        break;
      case '--no-rss-probe':
        args.rssProbe = false;
        break;
      case '--probe-max-old-space':
        args.probeMaxOldSpace = number();
        break;
      case '--probe':
        args.probeInput = argv[++i];
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
      default:
        throw new Error(`Unknown flag ${flag}\n${USAGE}`);
    }
  }
  if (args.memoryResources < 0) {
    args.memoryResources = Math.min(args.resources, DEFAULT_MEMORY_RESOURCES);
  }
  args.memoryResources = Math.min(args.memoryResources, args.resources);
  return args;
}
