import { billPaymentOutcome, transferRequestStatus } from '../domain/bill.ts';
import type { TransferRequestView } from '../db/repositories/transfer-requests.ts';

/** GovStack sends rtpId as an integer; Kassa keeps what the biller sent and gives a number back when it was one. */
export const rtpIdOf = (request: Pick<TransferRequestView, 'rtpId'>): number | string => (/^\d{1,15}$/.test(request.rtpId) ? Number(request.rtpId) : request.rtpId);

/** rtpStatusUpdateResponse.yml: the request's status as the biller asks for it. */
export function presentTransferRequestStatus(request: TransferRequestView, now: Date) {
  const payment = request.payment ? billPaymentOutcome(request.payment.orderStatus) : undefined;
  const requestStatus = transferRequestStatus(request, payment, now);
  const changes = [request.createdAt, request.decidedAt, request.payment?.updatedAt, requestStatus === 'EXP' ? request.expiresAt : null]
    .filter((at): at is Date => at instanceof Date)
    .map((at) => at.getTime());
  return {
    rtpId: rtpIdOf(request),
    RequestId: request.requestId,
    requestStatus,
    ...(requestStatus === 'COM' ? { PaymentReferenceID: request.payment!.paymentReference } : {}),
    ...(requestStatus === 'RJC' && request.rejectReason ? { rejectReason: request.rejectReason } : {}),
    lastUpdateDate: Math.floor(Math.max(...changes) / 1000),
  };
}
