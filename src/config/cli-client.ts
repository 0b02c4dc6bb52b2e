import { z } from 'zod';
import { ConfigError } from './index.ts';

/**
 * The settings of the `kassa batch …` commands, a client of a running Kassa over HTTP. They are read by the
 * CLI only (the server never looks at them); a command-line option wins over the environment.
 */
const cliClientSchema = z.object({
  KASSA_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  KASSA_API_KEY: z.string().min(1).optional(),
});

export interface CliClientConfig {
  /** The API's base URL, without a trailing slash. */
  readonly url: string;
  readonly apiKey: string;
}

export interface CliClientOverrides {
  readonly url?: string;
  readonly key?: string;
}

export function loadCliClientConfig(overrides: CliClientOverrides = {}, environment: NodeJS.ProcessEnv = process.env): CliClientConfig {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = cliClientSchema.safeParse({
    ...present,
    ...(overrides.url ? { KASSA_URL: overrides.url } : {}),
    ...(overrides.key ? { KASSA_API_KEY: overrides.key } : {}),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}${overrides.url && issue.path[0] === 'KASSA_URL' ? ' (--url)' : ''}: ${issue.message}`);
    throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
  }
  if (!parsed.data.KASSA_API_KEY) throw new ConfigError('KASSA_API_KEY: required (or --key): the API key the command calls Kassa with');
  return Object.freeze({ url: parsed.data.KASSA_URL.replace(/\/+$/, ''), apiKey: parsed.data.KASSA_API_KEY });
}
