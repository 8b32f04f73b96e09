import { Command } from 'commander';

// `autobuild tags IMAGE`: what the registry holds for an image, tag by tag with its manifest
// digest, so a user can see which version `latest`, `1` and `1.2` point at.

export function tagsCommand(): Command {
  return new Command('tags')
    .description("list an image's tags in its registry with their manifest digests")
    .argument('<image>', 'image name without tag: ghcr.io/octo/app, alice/app, 127.0.0.1:5000/app')
    .option('--config <file>', 'autobuild.yml, for registry credentials (default ./autobuild.yml if present, else $AUTOBUILD_CONFIG)')
    .option('--json', 'print {"image","tags":[{"tag","digest"}]} on stdout')
    .action(async (image: string, flags: { config?: string; json?: boolean }) => {
      const [{ loadConfig }, { RegistryClient }, { parseImageName }, { registriesFrom }] = await Promise.all([
        import('../adapters/config-file.js'),
        import('../adapters/registry-client.js'),
        import('../core/references.js'),
        import('./build-command.js'),
      ]);
      parseImageName(image);
      const config = await loadConfig(flags.config);
      const tags = await new RegistryClient(registriesFrom(config, [image])).tagDigests(image);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ image, tags })}\n`);
        return;
      }
      if (tags.length === 0) process.stderr.write(`${image} has no tags\n`);
      const width = Math.max(3, ...tags.map((t) => t.tag.length));
      for (const t of tags) process.stdout.write(`${t.tag.padEnd(width)}  ${t.digest}\n`);
    });
}
