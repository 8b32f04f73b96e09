import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { imageName, repositoryConfig } from '../../src/core/plan-inputs.js';

describe('every entry point reads an image name the same way', () => {
  it.each([
    { text: 'Octo/App', name: 'octo/app' },
    { text: 'ghcr.io/Octo/App', name: 'ghcr.io/octo/app' },
    { text: 'docker.io/library/ubuntu', name: 'ubuntu' },
    { text: 'index.docker.io/alice/app', name: 'alice/app' },
    { text: '127.0.0.1:5000/team/app', name: '127.0.0.1:5000/team/app' },
    { text: ' alice/app ', name: 'alice/app' },
  ])('$text -> $name', ({ text, name }) => {
    expect(imageName(text)).toBe(name);
  });

  it.each([
    {
      text: 'ghcr.io/octo/app:1.0',
      error: 'image "ghcr.io/octo/app:1.0" must not include a tag or digest — write just "ghcr.io/octo/app"; tags come from the preset, rules or tags lines',
    },
    { text: 'octo//app', error: /invalid image reference "octo\/\/app"/ },
    { text: 'Not A Name', error: /^image "Not A Name": invalid image reference "not a name"/ },
  ])('$text is refused', ({ text, error }) => {
    expect(() => imageName(text)).toThrow(error);
  });

  it('autobuild.yml gives the repository the same defaults as the CLI and the Action', () => {
    const config = parseConfig('repositories:\n  octo/app:\n    image: Octo/App\n', {}, 'autobuild.yml');
    // autotest, submodules and knownHosts are optional: when missing, their readers use the default.
    const { autotest: _a, submodules: _s, knownHosts: _k, ...fromYaml } = config.repositories['octo/app']!;
    expect(fromYaml).toEqual(repositoryConfig({ images: ['octo/app'] }));
  });
});
