import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed pushes from the bank: `X-Bank-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body bytes>" under the shared callback secret>`. Several v1 values may be given (secret
 * rotation); one must match. Pushes older or newer than the tolerance are refused as replays.
 */

export const BANK_SIGNATURE_HEADER = 'X-Bank-Signature';

/** Only for local runs against the simulator; set RAIL_BANK_ISO20022_CALLBACK_SECRET to the secret agreed with the bank. */
export const DEFAULT_BANK_CALLBACK_SECRET = 'kassa-local-bank-simulator-secret';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

function mac(secret: string, timestampSeconds: number, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest();
}

export function signBankPush(secret: string, rawBody: Buffer | string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSeconds},v1=${mac(secret, timestampSeconds, rawBody).toString('hex')}`;
}

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'stale' | 'mismatch';

export function checkBankSignature(
  secret: string,
  rawBody: Buffer,
  header: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (header === undefined || header.trim() === '') return 'missing';
  let timestamp: number | undefined;
  const given: Buffer[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator === -1) return 'malformed';
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return 'malformed';
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return 'malformed';
      given.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || given.length === 0) return 'malformed';
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return 'stale';
  const expected = mac(secret, timestamp, rawBody);
  return given.some((candidate) => timingSafeEqual(candidate, expected)) ? 'valid' : 'mismatch';
}
