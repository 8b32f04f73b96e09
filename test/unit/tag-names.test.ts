import { describe, expect, it } from 'vitest';
import { sanitizeTag } from '../../src/core/tag-names.js';
import { isValidTag } from '../../src/core/references.js';

const rows: { name: string; text: string; expected: string }[] = [
  { name: 'a slash in a branch name becomes -', text: 'feature/login', expected: 'feature-login' },
  { name: 'a valid tag is unchanged', text: 'v1.2.3_rc-1', expected: 'v1.2.3_rc-1' },
  { name: 'capitals are kept', text: 'Release-2024', expected: 'Release-2024' },
  { name: 'a run of bad characters becomes one -', text: 'a//b  c', expected: 'a-b-c' },
  { name: 'a command substitution is defused', text: '$(rm -rf /)', expected: 'rm--rf-' },
  { name: 'backticks are defused', text: '`id`', expected: 'id-' },
  { name: 'quotes and semicolons are defused', text: "x';reboot;'", expected: 'x-reboot-' },
  { name: 'unicode becomes -', text: 'café über', expected: 'caf-ber' },
  { name: 'an emoji becomes -', text: 'ship🚀it', expected: 'ship-it' },
  { name: 'leading dots are dropped', text: '..hidden', expected: 'hidden' },
  { name: 'leading dashes are dropped', text: '---x', expected: 'x' },
  { name: 'a leading slash is dropped', text: '/x', expected: 'x' },
  { name: 'only dots leave nothing', text: '..', expected: '' },
  { name: 'only bad characters leave nothing', text: '€€€', expected: '' },
  { name: 'empty stays empty', text: '', expected: '' },
  { name: 'a 300-character name is cut to 128', text: 'b'.repeat(300), expected: 'b'.repeat(128) },
  { name: 'cutting happens after dropping the leading junk', text: '-'.repeat(10) + 'c'.repeat(200), expected: 'c'.repeat(128) },
  { name: 'newlines cannot smuggle a second tag', text: 'main\nlatest', expected: 'main-latest' },
];

describe('sanitizeTag', () => {
  it.each(rows)('$name', ({ text, expected }) => {
    const tag = sanitizeTag(text);
    expect(tag).toBe(expected);
    if (tag !== '') expect(isValidTag(tag)).toBe(true);
  });
});
