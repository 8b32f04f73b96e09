// docker/metadata-action's `images` input (its image.ts): one image a line, either a bare name or
// `name=IMAGE,enable=true|false`; a single line of bare names separated by commas is the older
// list form and still works. Returns the names of the enabled images, as written.
import { UserError } from './errors.js';
import { inputLines, lineFields } from './metadata-tags.js';

function bad(line: string, what: string, hint: string): UserError {
  return new UserError(`images line ${JSON.stringify(line)}: ${what}`, hint);
}

export function parseImagesInput(text: string): string[] {
  const lines = inputLines(text);
  const only = lines.length === 1 ? lineFields(lines[0]!) : undefined;
  if (only && only.every((f) => f.key === undefined)) return only.map((f) => f.value).filter((v) => v !== '');
  const names: string[] = [];
  for (const line of lines) {
    let name = '';
    let enable = true;
    for (const field of lineFields(line)) {
      if (field.key === undefined || field.key === 'name') name = field.value;
      else if (field.key === 'enable') {
        if (field.value !== 'true' && field.value !== 'false')
          throw bad(line, `enable=${field.value} is not true or false`, 'write enable=true or enable=false');
        enable = field.value === 'true';
      } else throw bad(line, `unknown attribute ${JSON.stringify(field.key)}`, 'write name=IMAGE and optionally enable=true|false');
    }
    if (name === '') throw bad(line, 'has no image name', 'write name=ghcr.io/owner/app or just the image name');
    if (enable) names.push(name);
  }
  return names;
}
