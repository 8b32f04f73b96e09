import { Command, CommanderError } from 'commander';
import { enableLinearRegExp } from '../adapters/regex-engine.js';
import { BuildError, isUserError } from '../core/errors.js';
import { buildCommand } from './build-command.js';
import { doctorCommand } from './doctor-command.js';
import { planCommand } from './plan-command.js';
import { serviceCommands } from './service-command.js';
import { tagsCommand } from './tags-command.js';

// The CLI is thin: each command module parses its flags, calls the same functions the service
// and the Action call, and formats the result. This file only wires them and reports errors:
// UserError -> one line on stderr, exit 2; BuildError -> message and last log lines, exit 1.
//
// Start-up cost is what users feel first, so loading is lazy (docs/DESIGN.md, "CLI start-up"):
// a command module imports statically only commander, node built-ins, types and the light core
// modules (errors, events, references, secret); everything else (config loading with zod and
// yaml, the pipeline, BullMQ, fastify) is `await import()`ed inside its action. So `--help`
// and every command's definition cost almost nothing, and a command loads only what it runs.
// A new command: a module following that rule, added to the list below.
const commands = (): Command[] => [planCommand(), buildCommand(), tagsCommand(), ...serviceCommands(), doctorCommand()];

export function program(): Command {
  const cli = new Command('autobuild')
    .description('Build a Dockerfile once, tag it from git refs, push every tag separately (latest last).')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);
  for (const command of commands()) cli.addCommand(command.exitOverride());
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  enableLinearRegExp();
  try {
    const cli = program();
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
