import { isLoopbackDomain } from './references.js';

// Pull-through mirrors (`mirrors:` in autobuild.yml) in the form containers/image reads them:
// a registries.conf for buildah (https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md).
// Pure: the caller writes the text to a file and points CONTAINERS_REGISTRIES_CONF at it.

export interface RegistriesConfInput {
  /** Registry host -> mirror URLs (`https://mirror.example.com`), tried in order before the host. */
  mirrors: Record<string, string[]>;
  /** Hosts to reach over plain HTTP (loopback registries, `insecure: true`). */
  insecureHosts: string[];
}

/** `https://mirror.example.com/path` -> `mirror.example.com/path`, and whether it is plain HTTP. */
function mirrorLocation(url: string): { location: string; insecure: boolean } {
  const u = new URL(url);
  const location = `${u.host}${u.pathname.replace(/\/+$/, '')}`;
  return { location, insecure: u.protocol === 'http:' || isLoopbackDomain(u.host) };
}

const quote = (s: string) => JSON.stringify(s);

export function registriesConf(input: RegistriesConfInput): string {
  const lines = [
    '# Written by autobuild for one build: mirrors and plain-HTTP registries.',
    'unqualified-search-registries = ["docker.io"]',
    'short-name-mode = "permissive"',
  ];
  const hosts = new Set([...Object.keys(input.mirrors), ...input.insecureHosts]);
  for (const host of hosts) {
    const prefix = host === 'index.docker.io' ? 'docker.io' : host;
    lines.push('', '[[registry]]', `prefix = ${quote(prefix)}`, `location = ${quote(prefix)}`);
    if (input.insecureHosts.includes(host) || isLoopbackDomain(host)) lines.push('insecure = true');
    for (const url of input.mirrors[host] ?? []) {
      const m = mirrorLocation(url);
      lines.push('', '[[registry.mirror]]', `location = ${quote(m.location)}`, ...(m.insecure ? ['insecure = true'] : []));
    }
  }
  return `${lines.join('\n')}\n`;
}
