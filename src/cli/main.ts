import { Command, CommanderError } from 'commander';
import { BuildError, isUserError } from '../core/errors.js';
import { buildCommand } from './build-command.js';
import { planCommand } from './plan-command.js';
import { serviceCommands } from './service-command.js';
import { tagsCommand } from './tags-command.js';

// The CLI is thin: each command module parses its flags, calls the same functions the service
// and the Action call, and formats the result. This file only wires them and reports errors:
// UserError -> one line on stderr, exit 2; BuildError -> message and last log lines, exit 1.
export function program(): Command {
  const cli = new Command('autobuild')
    .description('Build a Dockerfile once, tag it from git refs, push every tag separately (latest last).')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  cli.addCommand(planCommand());
  cli.addCommand(buildCommand());
  cli.addCommand(tagsCommand());
  for (const command of serviceCommands()) cli.addCommand(command);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  const cli = program();
  for (const sub of cli.commands) sub.exitOverride();
  try {
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
