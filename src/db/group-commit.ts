interface Pending<I, R> {
  readonly item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: writes that arrive while earlier ones are being committed wait and go together in the next
 * statement. At low load a write goes out at once; under load each round trip and commit carries many
 * writes, which is what lets one PostgreSQL accept thousands of orders a second durably.
 *
 * Items with the same `conflictKey` never share a batch, so a batch statement never has to decide
 * between two writes of one idempotency key.
 */
export class GroupCommit<I, R> {
  private queue: Pending<I, R>[] = [];
  private inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; maxConcurrent: number; conflictKey: (item: I) => string; flushOne: (item: I) => Promise<R> },
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.maxConcurrent && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.commit(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  private takeBatch(): Pending<I, R>[] {
    const batch: Pending<I, R>[] = [];
    const rest: Pending<I, R>[] = [];
    const keys = new Set<string>();
    for (const pending of this.queue) {
      const key = this.options.conflictKey(pending.item);
      if (batch.length < this.options.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(pending);
      } else {
        rest.push(pending);
      }
    }
    this.queue = rest;
    return batch;
  }

  /** A batch that fails is retried one write at a time, so one bad write cannot fail its neighbours. */
  private async commit(batch: Pending<I, R>[]): Promise<void> {
    try {
      const results = await this.flush(batch.map((pending) => pending.item));
      batch.forEach((pending, index) => pending.resolve(results[index]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      await Promise.all(batch.map((pending) => this.options.flushOne(pending.item).then(pending.resolve, pending.reject)));
    }
  }
}
