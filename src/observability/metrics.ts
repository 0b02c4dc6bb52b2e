import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricSources {
  ordersByStatus(): Promise<Map<string, number>>;
  queueDepths(): Promise<Map<string, number>>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly railLatency: Histogram<'rail' | 'operation' | 'outcome'>;
  readonly transitions: Counter<'to'>;
  private sources: MetricSources | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kassa_' });
    this.railLatency = new Histogram({
      name: 'kassa_rail_request_seconds',
      help: 'Time a rail took to answer, by rail, operation and outcome',
      labelNames: ['rail', 'operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.transitions = new Counter({ name: 'kassa_order_transitions_total', help: 'Order status changes made by this process', labelNames: ['to'], registers: [this.registry] });
    const attached = () => this.sources;
    new Gauge({
      name: 'kassa_orders',
      help: 'Orders by status, read from the database',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const sources = attached();
        if (!sources) return;
        this.reset();
        for (const [status, count] of await sources.ordersByStatus()) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'kassa_queue_depth',
      help: 'Jobs waiting, delayed or active, by queue',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        const sources = attached();
        if (!sources) return;
        this.reset();
        for (const [queue, depth] of await sources.queueDepths()) this.set({ queue }, depth);
      },
    });
  }

  attach(sources: MetricSources): void {
    this.sources = sources;
  }
}
