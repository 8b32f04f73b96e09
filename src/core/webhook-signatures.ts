import { createHmac, timingSafeEqual } from 'node:crypto';

// How each forge signs a webhook delivery, as small pure functions: the receivers call them with
// the exact bytes that arrived. Every comparison takes the same time whatever the input, so a
// sender cannot learn the secret one byte at a time. (GitHub's X-Hub-Signature-256 is checked in
// src/service/receiver.ts against the HMAC that webhook-http.ts takes while the body streams in.)

/** Lower-case hex HMAC-SHA256 of `body` under `secret`. */
function hmacSha256Hex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Equal strings, compared in constant time (the length alone may differ quickly). */
function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // Compare against itself when lengths differ, so the time spent does not depend on where they differ.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}

/** GitLab sends the secret itself in X-Gitlab-Token. */
export function verifyGitlabToken(secret: string, header: string | undefined): boolean {
  return secret !== '' && header !== undefined && constantTimeEqual(header, secret);
}

/** Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC of the body>`. */
export function verifyBitbucketSignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (secret === '' || header === undefined) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  return match !== null && constantTimeEqual(match[1]!.toLowerCase(), hmacSha256Hex(secret, body));
}

/** Gitea and Forgejo: `X-Gitea-Signature` (or `X-Forgejo-Signature`) is the bare hex HMAC. */
export function verifyGiteaSignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (secret === '' || header === undefined) return false;
  const hex = header.trim().replace(/^sha256=/, '');
  return /^[0-9a-fA-F]{64}$/.test(hex) && constantTimeEqual(hex.toLowerCase(), hmacSha256Hex(secret, body));
}

/** The header autobuild signs its own notifications with: `sha256=<hex>`, as GitHub does. */
export function notificationSignature(secret: string, body: string): string {
  return `sha256=${hmacSha256Hex(secret, body)}`;
}
