import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How the operator signs the callbacks it PUTs to X-Callback-URL (the GSMA API leaves callback
 * authentication to the bilateral agreement; this is the scheme Kassa asks operators for):
 *
 *   X-Callback-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(callbackSecret, "<t>.<X-CorrelationID>.<raw body>")>
 *
 * The MAC covers the exact bytes of the body, the timestamp (so a receiver refuses replays outside its
 * tolerance) and the X-CorrelationID header (which names the payment for an error callback, so it must
 * not be swappable). Several v1 values may be sent while a secret is rotated; any match is enough.
 */
export const CALLBACK_SIGNATURE_HEADER = 'X-Callback-Signature';

export function signCallback(secret: string, correlationId: string, rawBody: Buffer | string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${macOf(secret, correlationId, rawBody, timestampSeconds).toString('hex')}`;
}

export type SignatureVerdict = 'valid' | 'missing' | 'malformed' | 'mismatch' | 'stale';

export function verifyCallbackSignature(
  secret: string,
  header: string | undefined,
  correlationId: string,
  rawBody: Buffer,
  nowSeconds: number,
  toleranceSeconds: number,
): SignatureVerdict {
  if (header === undefined || header.trim() === '') return 'missing';
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return 'malformed';
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return 'malformed';
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return 'malformed';
      candidates.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || candidates.length === 0) return 'malformed';
  const expected = macOf(secret, correlationId, rawBody, timestamp);
  let matches = false;
  for (const candidate of candidates) matches = timingSafeEqual(candidate, expected) || matches;
  if (!matches) return 'mismatch';
  return Math.abs(nowSeconds - timestamp) > toleranceSeconds ? 'stale' : 'valid';
}

function macOf(secret: string, correlationId: string, rawBody: Buffer | string, timestampSeconds: number): Buffer {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${correlationId}.`).update(rawBody).digest();
}
