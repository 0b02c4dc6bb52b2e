import type { Caller } from '../../domain/caller.ts';

interface Entry {
  readonly caller: Promise<Caller | undefined>;
  readonly expiresAt: number;
  renewing: boolean;
}

// In the last fifth of its life an entry in use is looked up again in the background.
const RENEW_SHARE = 0.2;
const MAX_ENTRIES = 10_000;

/**
 * API keys to their callers, each remembered for `ttlMs` after it was looked up, so a revoked key stops
 * working within that time. One lookup per key is in flight at a time, and a key in use is looked up again
 * before its entry expires: when it does, a busy client's concurrent requests neither queue behind the
 * database nor each send it the same query.
 */
export class CallerCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly lookUp: (keyHash: string) => Promise<Caller | undefined>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(keyHash: string): Promise<Caller | undefined> {
    if (this.ttlMs <= 0) return this.lookUp(keyHash);
    const now = this.now();
    const entry = this.entries.get(keyHash);
    if (!entry || entry.expiresAt <= now) return this.load(keyHash, now);
    if (!entry.renewing && entry.expiresAt - now < this.ttlMs * RENEW_SHARE) this.renew(keyHash, entry, now);
    return entry.caller;
  }

  private load(keyHash: string, now: number): Promise<Caller | undefined> {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const entry: Entry = { caller: this.lookUp(keyHash), expiresAt: now + this.ttlMs, renewing: false };
    this.entries.set(keyHash, entry);
    // A failed lookup is not remembered: the next request asks the database again.
    entry.caller.catch(() => {
      if (this.entries.get(keyHash) === entry) this.entries.delete(keyHash);
    });
    return entry.caller;
  }

  /** A failed renewal leaves the entry to expire as it would have; the request after that looks the key up itself. */
  private renew(keyHash: string, stale: Entry, now: number): void {
    stale.renewing = true;
    this.lookUp(keyHash).then(
      (caller) => {
        if (this.entries.get(keyHash) === stale) this.entries.set(keyHash, { caller: Promise.resolve(caller), expiresAt: now + this.ttlMs, renewing: false });
      },
      () => undefined,
    );
  }
}
