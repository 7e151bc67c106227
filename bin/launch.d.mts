// Types of bin/launch.mjs (the `npm start` launcher) for the tests that import its pure parts.

export type LaunchDecision = { mode: 'electron'; binary: string } | { mode: 'browser'; reason: string | undefined };

export function findElectronBinary(options?: { requireFrom?: (id: string) => unknown; exists?: (file: string) => boolean }): string | undefined;

export function hasDisplay(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): boolean;

export function decideLaunch(input: {
  forceWeb?: boolean;
  electronBinary: string | undefined;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
}): LaunchDecision;

export function serveArgs(options: { data?: string; port?: string; demo?: boolean }): string[];

export function launch(argv: string[]): Promise<number>;
