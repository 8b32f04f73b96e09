import { Command } from 'commander';
import { DEFAULT_GRACE_SECONDS, DEFAULT_LOCK_SECONDS } from '../service/service-defaults.js';
import type { ServiceMode } from '../service/service-runtime.js';

// `autobuild start`, `serve` and `worker`: load autobuild.yml and run the service in that mode
// until SIGTERM/SIGINT. The work is in src/service/service-runtime.ts.

const ENV_HELP = `
Environment:
  REDIS_URL                  Redis shared by serve and worker (start runs its own when unset)
  PORT                       overrides server.port
  AUTOBUILD_GRACE_SECONDS    on SIGTERM, how long running builds may finish (default ${DEFAULT_GRACE_SECONDS})
  AUTOBUILD_LOCK_SECONDS     how soon a dead worker's build is taken over (default ${DEFAULT_LOCK_SECONDS})
  AUTOBUILD_LOG_LEVEL        pino level of the JSON logs on stderr (default info)`;

const DESCRIPTIONS: Record<ServiceMode, string> = {
  start: 'serve HTTP (webhooks, API, dashboard) and run a build worker in one process',
  serve: 'serve HTTP only: webhooks, API, dashboard (workers run elsewhere on the same Redis)',
  worker: 'run a build worker only, taking builds from the shared Redis',
};

function serviceCommand(mode: ServiceMode): Command {
  return new Command(mode)
    .description(DESCRIPTIONS[mode])
    .option('--config <file>', 'autobuild.yml (default ./autobuild.yml if present, else $AUTOBUILD_CONFIG)')
    .addHelpText('after', ENV_HELP)
    .action(async (flags: { config?: string }) => {
      const [{ loadConfig }, { runService }] = await Promise.all([import('../adapters/config-file.js'), import('../service/service-runtime.js')]);
      const config = await loadConfig(flags.config, process.env);
      process.exitCode = await runService({ mode, config, env: process.env });
    });
}

export function serviceCommands(): Command[] {
  return [serviceCommand('start'), serviceCommand('serve'), serviceCommand('worker')];
}
