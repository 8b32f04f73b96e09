// Tags already in the registry, so planning never moves `latest` or a version tag backward. An
// image whose tags cannot be read (a new repository, no pull rights yet, a registry that is
// away) counts as having none, in every entry point alike: the pipeline decides moving tags
// again against the registry right before it pushes them.
import { BuildError, UserError } from '../core/errors.js';
import type { RegistryAuth } from '../core/types.js';
import { RegistryClient } from './registry-client.js';

/** Why an image's tags could not be read, without the client's hint (it speaks of autobuild.yml). */
export type TagsProblem = (image: string, why: string) => void;

/** One image's tags; [] and a call of `problem` when they cannot be read. */
export async function tagsOf(client: RegistryClient, image: string, problem: TagsProblem): Promise<string[]> {
  try {
    return await client.listTags(image);
  } catch (err) {
    problem(image, err instanceof BuildError || err instanceof UserError ? err.problem : err instanceof Error ? err.message : String(err));
    return [];
  }
}

/** The union of every image's tags, all asked at once. */
export async function readExistingTags(images: string[], registries: Record<string, RegistryAuth>, problem: TagsProblem): Promise<string[]> {
  const client = new RegistryClient(registries);
  const all = await Promise.all(images.map((image) => tagsOf(client, image, problem)));
  return [...new Set(all.flat())].sort();
}
