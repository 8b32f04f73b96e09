import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { BuildError } from '../../core/errors.js';
import { DOCKER_MANIFEST, imageManifest, type Descriptor, type Platform } from '../../core/image-index.js';
import type { RegistryClient } from '../registry-client.js';
import { inheritedEnv, run, type RunOptions } from '../process.js';

// Pushes one image of the docker engine by digest, with no tag: `docker save`, then each layer
// gzipped and uploaded through the registry client, then the manifest PUT under its digest.
// The docker CLI can only push tags, and a multi-platform build must not show one platform's
// image under a user's tag, even for a moment (buildx does the same with push-by-digest).

export interface SavedImage extends Descriptor {
  platform: Platform;
}

export async function pushImageByDigest(options: {
  image: string;
  destination: string;
  workDir: string;
  registry: RegistryClient;
  env: Record<string, string | undefined>;
  ctx: Pick<RunOptions, 'secrets' | 'signal'>;
}): Promise<SavedImage> {
  const { image, destination, registry } = options;
  const dir = join(options.workDir, `save-${createHash('sha256').update(image).digest('hex').slice(0, 12)}`);
  await mkdir(dir, { recursive: true });
  const archive = join(dir, 'image.tar');
  await run('docker', ['save', '--output', archive, image], { env: options.env, ...options.ctx, what: `docker save ${image}` });
  await run('tar', ['-xf', archive, '-C', dir], { env: inheritedEnv(), ...options.ctx, what: 'unpack the saved image' });
  const [entry] = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { Config: string; Layers: string[] }[];
  if (!entry) throw new BuildError(`docker save ${image} wrote no image`);

  const configFile = join(dir, entry.Config);
  const configBytes = await readFile(configFile);
  const config = { digest: `sha256:${createHash('sha256').update(configBytes).digest('hex')}`, size: configBytes.length };
  const parsed = JSON.parse(configBytes.toString('utf8')) as { os?: string; architecture?: string; variant?: string };
  const layers: { digest: string; size: number }[] = [];
  for (const [i, layer] of entry.Layers.entries()) {
    const gz = join(dir, `layer-${i}.tar.gz`);
    const digest = await gzipWithDigest(join(dir, layer), gz);
    layers.push({ digest, size: (await stat(gz)).size });
    await registry.uploadBlob(destination, digest, gz);
  }
  await registry.uploadBlob(destination, config.digest, configFile);
  const bytes = imageManifest(config, layers);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await registry.putManifest(`${destination}@${digest}`, bytes, DOCKER_MANIFEST);
  const platform: Platform = { os: parsed.os ?? 'linux', architecture: parsed.architecture ?? 'amd64', ...(parsed.variant ? { variant: parsed.variant } : {}) };
  return { mediaType: DOCKER_MANIFEST, digest, size: bytes.length, platform };
}

/** Gzips `from` into `to` and returns the digest of the compressed bytes (what the registry stores). */
async function gzipWithDigest(from: string, to: string): Promise<string> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from), createGzip(), tap, createWriteStream(to));
  return `sha256:${hash.digest('hex')}`;
}
