import { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { CHECK_GROUPS, type CheckGroup } from '../doctor/check-groups.js';

// `autobuild doctor`: checks the set-up and prints one line per check with the fix when it
// fails; `--json` prints the report as one document. Exit 0 only when nothing failed, 2 when
// autobuild.yml itself is invalid, 1 when another check failed.

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check the set-up: config, Redis and its persistence, the builder, registry credentials, GitHub token, webhook secret, public URL')
    .option('--config <file>', 'autobuild.yml (default ./autobuild.yml if present, else $AUTOBUILD_CONFIG)')
    .option('--json', 'print {"ok","config","checks":[{"name","status","message","fix"}]} on stdout')
    .option('--check <groups>', `only these checks, comma-separated: ${CHECK_GROUPS.join(', ')}`)
    .action(async (flags: { config?: string; json?: boolean; check?: string }) => {
      const { doctorExitCode, formatReport, runDoctor } = await import('../doctor/doctor.js');
      const report = await runDoctor({ configFile: flags.config, env: process.env, ...(flags.check !== undefined ? { only: groupsFrom(flags.check) } : {}) });
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
      process.exitCode = doctorExitCode(report);
    });
}

function groupsFrom(text: string): CheckGroup[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.find((n) => !(CHECK_GROUPS as readonly string[]).includes(n));
  if (unknown !== undefined || names.length === 0) {
    throw new UserError(
      `--check: ${unknown === undefined ? 'no check named' : `unknown check "${unknown}"`}`,
      `name one or more of ${CHECK_GROUPS.join(', ')}`,
    );
  }
  return names as CheckGroup[];
}
