import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/index.ts';
import { SCOPES, type Scope } from '../domain/scopes.ts';
import { registerBatchCommands } from './batch-commands.ts';
import { registerTreasuryCommands } from './treasury-commands.ts';

function parseScopes(value: string): Scope[] {
  const scopes = value.split(',').map((scope) => scope.trim()).filter(Boolean);
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`scopes must be a comma-separated list of ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

/** Loaded on use: the server commands pull in the whole service, which `kassa batch …` (an HTTP client) never needs. */
const commands = () => import('./commands.ts');

const program = new Command('kassa').description('Kassa — the payments building block for governments').showHelpAfterError();

program.command('start').description('API, workers and the sandbox rail simulator in one process, on embedded defaults').action(async () => (await commands()).runStart(loadConfig()));
program.command('api').description('the HTTP API alone').action(async () => (await commands()).runApi(loadConfig()));
program.command('worker').description('the queue workers, outbox relay and sweeper alone').action(async () => (await commands()).runWorker(loadConfig()));
program.command('migrate').description('apply the database migrations and exit').action(async () => (await commands()).runMigrate(loadConfig()));
program.command('simulator').description('the sandbox rail simulator alone, on SANDBOX_SIMULATOR_PORT').action(async () => (await commands()).runSimulator(loadConfig()));
program
  .command('clients')
  .description('API credentials')
  .command('create')
  .description('issue an API key for an organisation (created on first use); the key is printed once')
  .requiredOption('--org <name>', 'organisation name')
  .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`, parseScopes)
  .option('--name <name>', 'a name for the credential', 'cli')
  .action(async (options: { org: string; scopes: Scope[]; name: string }) => (await commands()).runClientsCreate(loadConfig(), options));
program
  .command('seed')
  .description('load reference data (organisations, credentials, programs, beneficiaries…) from a YAML or JSON file; running it again changes nothing')
  .argument('<file>', 'the seed file; see src/cli/seed-example.yaml')
  .action(async (file: string) => (await commands()).runSeed(loadConfig(), file));
registerBatchCommands(program);
registerTreasuryCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`kassa: ${error.message}`);
    process.exit(78);
  }
  throw error;
}
