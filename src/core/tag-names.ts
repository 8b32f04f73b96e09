// Git branch and tag names allow far more than an image tag does. This turns one into a tag
// matching [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (the distribution/reference tag grammar).

const TAG_MAX_LENGTH = 128;

/**
 * `feature/login` -> `feature-login`. Every run of characters a tag may not hold becomes one `-`,
 * leading `.` and `-` are dropped (a tag must start with a word character), and the result is
 * cut to 128 characters. Returns '' when nothing usable is left; the caller says why it skipped.
 */
export function sanitizeTag(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, TAG_MAX_LENGTH);
}
