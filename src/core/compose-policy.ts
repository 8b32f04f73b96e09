import { posix } from 'node:path';

// What an untrusted test file (a fork's pull request with `autotest: external`) may ask of the
// docker engine. Compose runs its services with the engine's full power, so a fork could
// otherwise mount the host's disk or the docker socket, run privileged, join the host's network
// or PID namespace, or read host files into a build context or environment. Docker Hub ran such
// tests in a throwaway VM; here the engine is shared, so these keys are refused instead.

/** Service keys that hand a container more than the engine's defaults. */
const HOST_KEYS = ['privileged', 'cap_add', 'devices', 'device_cgroup_rules', 'security_opt', 'sysctls', 'cgroup_parent', 'volumes_from', 'runtime', 'gpus'];
/** Keys whose value `host` (or `service:`/`container:` of something outside) shares a namespace. */
const NAMESPACE_KEYS = ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts', 'cgroup'];

/**
 * The problems of a parsed compose document for an untrusted build, each one line naming the
 * service and key; empty when it may run. `dir` is the file's directory and `root` the
 * checkout: every path the file names must stay inside the checkout.
 */
export function untrustedComposeProblems(doc: unknown, file: string, dir: string, root: string): string[] {
  const problems: string[] = [];
  const inside = (path: string) => {
    // `~` is the host's home and `${VAR}` the host's environment: never inside.
    if (path.includes('$') || path.startsWith('~')) return false;
    const full = posix.resolve(dir, path);
    return full === root || full.startsWith(`${root}/`);
  };
  const top = isRecord(doc) ? doc : {};
  for (const key of ['include', 'extends']) if (key in top) problems.push(`${file}: ${key} is not allowed in a fork's test file`);
  for (const [kind, entries] of [
    ['volumes', top['volumes']],
    ['networks', top['networks']],
    ['secrets', top['secrets']],
    ['configs', top['configs']],
  ] as const) {
    for (const [name, spec] of Object.entries(isRecord(entries) ? entries : {})) {
      if (!isRecord(spec)) continue;
      if (spec['driver_opts'] !== undefined || (kind === 'volumes' && spec['driver'] !== undefined && spec['driver'] !== 'local'))
        problems.push(`${file}: ${kind}.${name}: driver options are not allowed in a fork's test file`);
      if (kind === 'networks' && (spec['driver'] === 'host' || spec['external'] !== undefined))
        problems.push(`${file}: networks.${name}: host or external networks are not allowed in a fork's test file`);
      if ((kind === 'secrets' || kind === 'configs') && (typeof spec['file'] !== 'string' || !inside(spec['file'])))
        problems.push(`${file}: ${kind}.${name}: only a file inside the repository may be used`);
      if ((kind === 'secrets' || kind === 'configs') && spec['environment'] !== undefined)
        problems.push(`${file}: ${kind}.${name}: environment sources are not allowed in a fork's test file`);
    }
  }
  const services = isRecord(top['services']) ? top['services'] : {};
  for (const [name, raw] of Object.entries(services)) {
    if (!isRecord(raw)) continue;
    const at = (key: string) => `${file}: services.${name}.${key}`;
    for (const key of HOST_KEYS) if (raw[key] !== undefined && raw[key] !== false) problems.push(`${at(key)} is not allowed in a fork's test file`);
    for (const key of NAMESPACE_KEYS) if (raw[key] !== undefined) problems.push(`${at(key)} is not allowed in a fork's test file`);
    if (raw['extends'] !== undefined) problems.push(`${at('extends')} is not allowed in a fork's test file`);
    for (const volume of Array.isArray(raw['volumes']) ? raw['volumes'] : []) {
      const source =
        typeof volume === 'string'
          ? shortVolumeSource(volume)
          : isRecord(volume)
            ? volume['type'] === 'bind'
              ? String(volume['source'] ?? '')
              : volume['type'] === 'volume' || volume['type'] === 'tmpfs'
                ? undefined
                : String(volume['source'] ?? '')
            : undefined;
      if (source !== undefined && source !== '' && !inside(source)) problems.push(`${at('volumes')}: ${JSON.stringify(source)} is outside the repository`);
    }
    const build = raw['build'];
    const context = typeof build === 'string' ? build : isRecord(build) && typeof build['context'] === 'string' ? build['context'] : undefined;
    if (context !== undefined && (/^[a-z]+:\/\//i.test(context) || !inside(context)))
      problems.push(`${at('build')}: context ${JSON.stringify(context)} is outside the repository`);
    if (isRecord(build) && build['additional_contexts'] !== undefined) problems.push(`${at('build.additional_contexts')} is not allowed in a fork's test file`);
    const envFiles = typeof raw['env_file'] === 'string' ? [raw['env_file']] : Array.isArray(raw['env_file']) ? raw['env_file'] : [];
    for (const f of envFiles) {
      const path = typeof f === 'string' ? f : isRecord(f) && typeof f['path'] === 'string' ? f['path'] : '';
      if (!inside(path)) problems.push(`${at('env_file')}: ${JSON.stringify(path)} is outside the repository`);
    }
  }
  return problems;
}

/** `SOURCE:TARGET[:MODE]` -> SOURCE when it is a host path; a named volume or bare target -> undefined. */
function shortVolumeSource(spec: string): string | undefined {
  const parts = spec.split(':');
  if (parts.length < 2) return undefined;
  const source = parts[0]!;
  return /^[./~]/.test(source) || source.includes('/') || source.includes('$') ? source : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
