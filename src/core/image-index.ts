// Image manifests and indexes as bytes: the Docker schema 2 manifest of one image (what
// `docker push` would write) and the manifest list that ties one image per platform together
// (what `docker manifest create` / `buildx imagetools create` write). Pure: no I/O.

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PlatformDigest {
  platform: string;
  digest: string;
}

/** `linux/arm64/v8` from an image config's or a descriptor's platform fields. */
function platformName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The schema 2 manifest of an image whose config and (gzipped) layers are uploaded as blobs. */
export function imageManifest(config: { digest: string; size: number }, layers: { digest: string; size: number }[]): Uint8Array {
  return json({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: DOCKER_LAYER, size: l.size, digest: l.digest })),
  });
}

/** A manifest list with one entry per platform, in the order given. */
export function manifestList(children: (Descriptor & { platform: Platform })[]): Uint8Array {
  return json({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_LIST,
    manifests: children.map((c) => ({
      mediaType: c.mediaType,
      size: c.size,
      digest: c.digest,
      platform: { architecture: c.platform.architecture, os: c.platform.os, ...(c.platform.variant ? { variant: c.platform.variant } : {}) },
    })),
  });
}

/**
 * Each platform's manifest digest in an index. Entries without a real platform (BuildKit's
 * attestation manifests say `unknown/unknown`) are not images anyone runs and are left out.
 */
export function indexPlatforms(bytes: Uint8Array): PlatformDigest[] {
  const doc = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: { digest: string; platform?: Platform }[] };
  return (doc.manifests ?? []).filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => ({ platform: platformName(m.platform!), digest: m.digest }));
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
