import { UserError } from './errors.js';

// The distribution/reference grammar, written once as named pieces and composed the way
// distribution/reference's regexp.go does. Parsing (does the text match the grammar?) is kept
// apart from normalisation (which registry and path does a short name mean?), as in normalize.go.

/** A parsed, normalised image reference. `name` is always fully qualified. */
export interface ImageReference {
  domain: string;
  path: string;
  name: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

// --- the grammar -----------------------------------------------------------------------------
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[_.]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6Address = '\\[[a-fA-F0-9:]+\\]';
const host = `(?:${domainName}|${ipv6Address})`;
const optionalPort = '(?::[0-9]+)?';
const domainAndPort = `${host}${optionalPort}`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePattern = `(?:${domainAndPort}/)?${remoteName}`;

const anchored = (pattern: string): RegExp => new RegExp(`^${pattern}$`);
const referenceRegexp = anchored(`(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?`);
const tagRegexp = anchored(tagPattern);
const remoteNameRegexp = anchored(remoteName);
const domainRegexp = anchored(domainAndPort);
const digestRegexp = anchored(digestPattern);
/** A bare image id: normalize.go refuses it as a name because it is ambiguous. */
const identifierRegexp = /^[a-f0-9]{64}$/;

/** Hex lengths of the digest algorithms registries accept (opencontainers/go-digest). */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function invalid(text: string, problem: string, hint?: string): UserError {
  return new UserError(`invalid image reference ${JSON.stringify(text)}: ${problem}`, hint);
}

/** A reference split by the grammar but not yet normalised. */
interface RawReference {
  name: string;
  tag?: string;
  digest?: string;
}

function match(text: string): RawReference {
  if (text === '') throw invalid(text, 'repository name must have at least one component', 'give an image name such as "alice/app"');
  const m = referenceRegexp.exec(text);
  if (!m) {
    if (referenceRegexp.test(text.toLowerCase())) {
      throw invalid(text, 'repository name must be lowercase', `write it as ${JSON.stringify(text.toLowerCase())}`);
    }
    throw invalid(text, explainMismatch(text), 'use [registry[:port]/]path[:tag][@sha256:<64 hex>]');
  }
  const raw: RawReference = { name: m[1]! };
  if (m[2] !== undefined) raw.tag = m[2];
  if (m[3] !== undefined) raw.digest = validateDigest(text, m[3]);
  return raw;
}

/** A best guess at which piece broke the grammar, so the message points at it. */
function explainMismatch(text: string): string {
  const at = text.indexOf('@');
  const beforeDigest = at === -1 ? text : text.slice(0, at);
  if (at !== -1 && !digestRegexp.test(text.slice(at + 1))) {
    return 'digest must be <algorithm>:<hex>, e.g. sha256: followed by 64 hex digits';
  }
  const slash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.lastIndexOf(':');
  if (colon > slash) {
    const tag = beforeDigest.slice(colon + 1);
    if (tag.length > 128) return `tag is ${tag.length} characters long; at most 128 are allowed`;
    if (!tagRegexp.test(tag)) return `tag ${JSON.stringify(tag)} must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`;
  }
  return 'invalid reference format (path components are lowercase letters and digits, joined by ".", "_", "__" or "-")';
}

function validateDigest(text: string, digest: string): string {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) throw invalid(text, `unsupported digest algorithm ${JSON.stringify(algorithm)}`, 'use sha256, sha384 or sha512');
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(text, `${algorithm} digest must be ${length} lowercase hex digits`, 'copy the digest exactly as the registry prints it');
  }
  return digest;
}

/**
 * Splits a name into registry domain and path as normalize.go's splitDockerDomain does, except
 * that the first component counts as a domain only if it is `localhost` or has `.` or `:`.
 */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  let domain = DEFAULT_DOMAIN;
  let path = name;
  if (slash !== -1 && (first === 'localhost' || first.includes('.') || first.includes(':'))) {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

/** Parses and normalises `[domain/]path[:tag][@digest]`: `ubuntu` -> `docker.io/library/ubuntu`. */
export function parseReference(text: string): ImageReference {
  if (identifierRegexp.test(text)) {
    throw invalid(text, 'a 64-character hex string is an image id, not a name', 'give the repository name instead');
  }
  const raw = match(text);
  const { domain, path } = splitDomain(raw.name);
  // The grammar lets a domain hold capitals; once the first part turns out not to be a domain
  // ("Foo/bar"), it is part of the path, where capitals are not allowed.
  if (!remoteNameRegexp.test(path)) {
    if (remoteNameRegexp.test(path.toLowerCase())) {
      throw invalid(text, 'repository name must be lowercase', `write it as ${JSON.stringify(raw.name.toLowerCase())}`);
    }
    throw invalid(text, 'invalid reference format', 'use [registry[:port]/]path[:tag][@sha256:<64 hex>]');
  }
  const name = `${domain}/${path}`;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(text, `repository name is ${name.length} characters long; at most ${NAME_TOTAL_LENGTH_MAX} are allowed`, 'use a shorter name');
  }
  const ref: ImageReference = { domain, path, name };
  if (raw.tag !== undefined) ref.tag = raw.tag;
  if (raw.digest !== undefined) ref.digest = raw.digest;
  return ref;
}

/** Parses a repository name that must carry neither tag nor digest. */
export function parseImageName(text: string): ImageReference {
  const ref = parseReference(text);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw invalid(text, 'an image name must not include a tag or digest', `write just ${JSON.stringify(ref.name)}; tags come from the rules`);
  }
  return ref;
}

/**
 * Lowercases the name part (not the tag or digest) before parsing, as docker/metadata-action does
 * with its `images` input, so `Octo-Org/App:V1` means `docker.io/octo-org/app:V1`.
 */
export function normalizeImageInput(text: string): ImageReference {
  const trimmed = text.trim();
  const at = trimmed.indexOf('@');
  const beforeDigest = at === -1 ? trimmed : trimmed.slice(0, at);
  const digest = at === -1 ? '' : trimmed.slice(at);
  const colon = beforeDigest.lastIndexOf(':');
  // A colon before the last slash is a registry port, not a tag separator.
  const tagStart = colon > beforeDigest.lastIndexOf('/') ? colon : beforeDigest.length;
  const name = beforeDigest.slice(0, tagStart).toLowerCase();
  return parseReference(name + beforeDigest.slice(tagStart) + digest);
}

/** The short form people type: `ubuntu`, `alice/app`, `ghcr.io/o/a` (reference.FamiliarName). */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    : ref.path;
}

/** The full text of a reference: `name[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** `ghcr.io/o/a` + `1.2` -> `ghcr.io/o/a:1.2`. The tag must already be valid (see tag-names.ts). */
export function withTag(name: string, tag: string): string {
  return `${name}:${tag}`;
}

/** Whether the tag text is a valid tag by the grammar. */
export function isValidTag(tag: string): boolean {
  return tagRegexp.test(tag);
}

/** Whether a registry domain (`host[:port]`) names this machine, which docker treats as plain HTTP. */
export function isLoopbackDomain(domain: string): boolean {
  if (!domainRegexp.test(domain)) return false;
  const host = domain.startsWith('[') ? domain.slice(0, domain.indexOf(']') + 1) : domain.replace(/:[0-9]+$/, '');
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === '[::1]') return true;
  const octets = lower.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255);
}
