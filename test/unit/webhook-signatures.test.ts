import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { notificationSignature, verifyBitbucketSignature, verifyGiteaSignature, verifyGitlabToken } from '../../src/core/webhook-signatures.js';

// Each forge's signature, made here as the forge makes it (HMAC over the exact bytes), checked
// by the same functions the receivers call.

const SECRET = "It's a Secret to Everybody";
const BODY = Buffer.from('{"object_kind":"push","ref":"refs/tags/v1.0.0"}');
const hex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

describe('forge webhook signatures', () => {
  it.each([
    ['GitLab: the token equals the secret', () => verifyGitlabToken(SECRET, SECRET), true],
    ['GitLab: another token', () => verifyGitlabToken(SECRET, "It's a Secret to Everybody!"), false],
    ['GitLab: no header', () => verifyGitlabToken(SECRET, undefined), false],
    ['GitLab: an empty configured secret never matches', () => verifyGitlabToken('', ''), false],
    ['Bitbucket: sha256=<hex HMAC>', () => verifyBitbucketSignature(SECRET, BODY, `sha256=${hex(SECRET, BODY)}`), true],
    ['Bitbucket: upper-case hex is the same signature', () => verifyBitbucketSignature(SECRET, BODY, `sha256=${hex(SECRET, BODY).toUpperCase()}`), true],
    ['Bitbucket: bare hex without the sha256= prefix', () => verifyBitbucketSignature(SECRET, BODY, hex(SECRET, BODY)), false],
    ['Bitbucket: signed with another secret', () => verifyBitbucketSignature(SECRET, BODY, `sha256=${hex('other', BODY)}`), false],
    [
      'Bitbucket: body changed after signing',
      () => verifyBitbucketSignature(SECRET, Buffer.concat([BODY, Buffer.from(' ')]), `sha256=${hex(SECRET, BODY)}`),
      false,
    ],
    ['Bitbucket: sha1 signature', () => verifyBitbucketSignature(SECRET, BODY, `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`), false],
    ['Gitea: bare hex HMAC', () => verifyGiteaSignature(SECRET, BODY, hex(SECRET, BODY)), true],
    ['Gitea: signed with another secret', () => verifyGiteaSignature(SECRET, BODY, hex('other', BODY)), false],
    ['Gitea: truncated signature', () => verifyGiteaSignature(SECRET, BODY, hex(SECRET, BODY).slice(0, 63)), false],
    ['Gitea: no header', () => verifyGiteaSignature(SECRET, BODY, undefined), false],
  ])('%s', (_name, check, want) => {
    expect(check()).toBe(want);
  });

  it('notifications are signed sha256=<hex HMAC of the body>, as a receiver checks them', () => {
    expect(notificationSignature('s3cret', '{"a":1}')).toBe(`sha256=${createHmac('sha256', 's3cret').update('{"a":1}').digest('hex')}`);
  });
});
