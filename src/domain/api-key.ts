import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'kassa_';

/** API keys carry 256 random bits, so a fast hash is enough to make the stored copy useless to a thief. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, ...storedFormOf(key) };
}

/** What is kept of a key: a prefix to recognise it by in listings, and its hash to check it against. */
export function storedFormOf(key: string): { prefix: string; hash: string } {
  return { prefix: key.slice(0, PREFIX.length + 6), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
