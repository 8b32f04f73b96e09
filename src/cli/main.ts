import { Command, CommanderError } from 'commander';
import { enableLinearRegExp } from '../adapters/regex-engine.js';
import { BuildError, isUserError } from '../core/errors.js';

// The CLI is thin: each command module parses its flags, calls the same functions the service
// and the Action call, and formats the result. This file only wires them and reports errors:
// UserError -> one line on stderr, exit 2; BuildError -> message and last log lines, exit 1.
// Each command's module is loaded only when that command runs: `plan` should not pay for
// loading BullMQ, fastify and the builders. `--help` (or no command) loads them all.
const commandModules: Record<string, () => Promise<Command[]>> = {
  plan: async () => [(await import('./plan-command.js')).planCommand()],
  build: async () => [(await import('./build-command.js')).buildCommand()],
  tags: async () => [(await import('./tags-command.js')).tagsCommand()],
  service: async () => (await import('./service-command.js')).serviceCommands(),
  doctor: async () => [(await import('./doctor-command.js')).doctorCommand()],
};
const serviceNames = new Set(['start', 'serve', 'worker']);

export async function program(argv: string[] = []): Promise<Command> {
  const cli = new Command('autobuild')
    .description('Build a Dockerfile once, tag it from git refs, push every tag separately (latest last).')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  const first = argv.find((a) => !a.startsWith('-'));
  const wanted = first === undefined ? undefined : serviceNames.has(first) ? 'service' : first;
  const keys = wanted !== undefined && wanted in commandModules ? [wanted] : Object.keys(commandModules);
  for (const key of keys) {
    for (const command of await commandModules[key]!()) cli.addCommand(command.exitOverride());
  }
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  enableLinearRegExp();
  try {
    const cli = await program(argv);
    await cli.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version land here with exit code 0; commander already printed them.
    if (err.exitCode === 0) return 0;
    return 2;
  }
  if (isUserError(err)) {
    process.stderr.write(`autobuild: ${err.message}\n`);
    return 2;
  }
  if (err instanceof BuildError) {
    process.stderr.write(`autobuild: build failed: ${err.message}\n`);
    for (const line of err.tail) process.stderr.write(`  | ${line}\n`);
    return 1;
  }
  throw err;
}
