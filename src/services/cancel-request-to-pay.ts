import { billPaymentOutcome, TRANSFER_REQUEST_STATUS_WORDS, transferRequestStatus } from '../domain/bill.ts';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import { cancelTransferRequest, findTransferRequest, type TransferRequestView } from '../db/repositories/transfer-requests.ts';
import { ownBiller } from './bill-parties.ts';
import type { ServiceContext } from './context.ts';

/** The biller withdraws a request to pay that is still open and has no payment under way or made; withdrawing it again changes nothing. */
export async function cancelRequestToPay(context: Pick<ServiceContext, 'db'>, caller: Caller, origin: RequestOrigin, billerCode: string, rtpId: string): Promise<TransferRequestView> {
  const biller = await ownBiller(context.db, caller, billerCode);
  const request = await findTransferRequest(context.db, biller.id, rtpId);
  if (!request) throw new ProblemError(404, 'transfer_request_not_found', 'Not found', `biller ${billerCode} has no request to pay ${rtpId}`);
  const cancelled = await context.db.transaction(async (trx) => {
    if (!(await cancelTransferRequest(trx, request.id))) return false;
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'transfer_request.cancel', target: request.id,
      sourceIp: origin.sourceIp, requestId: origin.requestId, detail: { biller: biller.code, rtp_id: rtpId },
    });
    return true;
  });
  const current = (await findTransferRequest(context.db, biller.id, rtpId))!;
  if (!cancelled && current.decision !== 'cancelled') {
    const status = transferRequestStatus(current, current.payment ? billPaymentOutcome(current.payment.orderStatus) : undefined, new Date());
    throw conflict('transfer_request_closed', `the request to pay ${rtpId} is ${TRANSFER_REQUEST_STATUS_WORDS[status]}${status === 'PND' ? ' with a payment under way' : ''}; it cannot be cancelled`);
  }
  return current;
}
