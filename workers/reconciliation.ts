import type { Job } from 'bullmq';
import { addDays } from '../src/domain/statement.ts';
import { reconciliationJobSchema } from '../src/queue/reconciliation-schedules.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { pullStatement } from '../src/services/pull-statement.ts';

/** A scheduled pull: today's statement of the rail (and the days before, when asked), stored and reconciled. */
export function reconciliationProcessor(context: ServiceContext) {
  return async (job: Job): Promise<unknown> => {
    if (job.name !== 'pull') throw new Error(`the reconciliation queue has no job called ${job.name}`);
    const { rail, lookbackDays } = reconciliationJobSchema.parse(job.data);
    const today = new Date().toISOString().slice(0, 10);
    const pulled = await pullStatement(context, { name: 'scheduler', clientId: null, organisationId: null }, null, { rail, from: addDays(today, -lookbackDays), to: today, trigger: 'schedule' });
    return { statementId: pulled.statement.id, duplicate: pulled.duplicate, runId: pulled.reconciliation?.run.id ?? null };
  };
}
