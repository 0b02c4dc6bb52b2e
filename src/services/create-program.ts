import { randomUUID } from 'node:crypto';
import { conflict } from '../domain/errors.ts';
import type { Party } from '../domain/order.ts';
import type { AuditEntry } from '../db/repositories/audit-log.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { clearDefaultProgram, findProgram, insertProgram, type Program } from '../db/repositories/programs.ts';
import type { Database } from '../db/knex.ts';

export interface ProgramRequest {
  readonly code: string;
  readonly name: string;
  readonly currency: string;
  readonly fundingAccount: Party;
  readonly budgetMinor: bigint;
  /** Batches whose valid total reaches this need a second credential's approval; 0: every batch does. */
  readonly approvalThresholdMinor: bigint;
  /** Batches that name no program (GovStack's X-Program-Id is optional) go to the default one. */
  readonly isDefault: boolean;
}

/** Creates a benefit program with its budget; used by admins over HTTP and by the CLI. */
export async function createProgram(db: Database, organisationId: string, request: ProgramRequest, actor: Omit<AuditEntry, 'action' | 'target' | 'organisationId' | 'detail'>): Promise<Program> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    if (request.isDefault) await clearDefaultProgram(trx, organisationId);
    const inserted = await insertProgram(trx, { id, organisationId, ...request });
    if (!inserted) throw conflict('program_exists', `the organisation already has a program ${request.code}`);
    await appendAudit(trx, {
      ...actor, organisationId, action: 'program.create', target: id,
      detail: { code: request.code, currency: request.currency, budget_minor: request.budgetMinor.toString(), approval_threshold_minor: request.approvalThresholdMinor.toString() },
    });
    return (await findProgram(trx, organisationId, id))!;
  });
}
