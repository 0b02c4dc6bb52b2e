import { randomUUID } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ValidationError } from '../domain/errors.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { findProgramByCode } from '../db/repositories/programs.ts';
import { findVoucherGroup, insertVoucherGroup, type VoucherGroup } from '../db/repositories/voucher-groups.ts';
import type { Database } from '../db/knex.ts';

export interface VoucherGroupRequest {
  readonly code: string;
  readonly name: string;
  /** The code of the program whose budget funds the group's vouchers. */
  readonly programCode: string;
  readonly validitySeconds: number;
}

/** Sets up a voucher group: which program funds its vouchers, and how long each stays valid once issued. */
export async function createVoucherGroup(db: Database, caller: Caller, origin: RequestOrigin, request: VoucherGroupRequest): Promise<VoucherGroup> {
  return db.transaction(async (trx) => {
    const program = await findProgramByCode(trx, caller.organisationId, request.programCode);
    if (!program) throw new ValidationError([{ field: 'body.program', reason: `the organisation has no program ${request.programCode}` }]);
    const id = randomUUID();
    const inserted = await insertVoucherGroup(trx, { id, organisationId: caller.organisationId, code: request.code, name: request.name, programId: program.id, validitySeconds: request.validitySeconds });
    if (!inserted) throw conflict('voucher_group_exists', `the organisation already has a voucher group ${request.code}`);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'voucher_group.create', target: id,
      sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { code: request.code, program: program.code, validity_seconds: request.validitySeconds },
    });
    return (await findVoucherGroup(trx, caller.organisationId, id))!;
  });
}
