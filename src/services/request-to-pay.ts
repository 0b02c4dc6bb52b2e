import { randomUUID } from 'node:crypto';
import type { Caller, RequestOrigin } from '../domain/caller.ts';
import { conflict, ProblemError } from '../domain/errors.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { appendAudit } from '../db/repositories/audit-log.ts';
import type { Biller } from '../db/repositories/billers.ts';
import { findPayerInstitutionByAlias, findPayerInstitutionByCode, type PayerInstitution } from '../db/repositories/payer-institutions.ts';
import { insertTransferRequest } from '../db/repositories/transfer-requests.ts';
import type { Database } from '../db/knex.ts';
import { ownBiller } from './bill-parties.ts';
import type { ServiceContext } from './context.ts';
import type { Idempotency } from './idempotent-replay.ts';
import { rtpIdOf } from './present-transfer-request.ts';
import { queueCallback } from './queue-callback.ts';
import { runOnce } from './run-once.ts';

/** Who is asked to pay: named by the biller (type 00), or found by alias in the account mapper (type 01). */
export type PayerOfRequest = { readonly requestType: '00'; readonly payerInstitutionCode: string; readonly financialAddress: string | null } | { readonly requestType: '01'; readonly alias: string };

export interface TransferRequestInput {
  readonly correlationId: string;
  readonly tenantId: string;
  readonly billerCode: string;
  /** Where the payer's answer is pushed (GovStack's /rtpUpdate). */
  readonly callbackUrl: string;
  readonly requestId: string;
  readonly rtpId: string;
  readonly billId: string;
  readonly payer: PayerOfRequest;
  /** Major units, as the biller wrote them. */
  readonly amount: string;
  /** Without it, the biller's currency. */
  readonly currency: string | undefined;
  /** Without it, RTP_EXPIRY_MS from now. */
  readonly expiresAt: Date | undefined;
}

/** billerRtpReq.yml's acknowledgement. */
export interface TransferRequestReply {
  readonly responseCode: '00';
  readonly responseDescription: string;
  readonly requestID: string;
}

const badRequest = (detail: string) => new ProblemError(400, 'bad_transfer_request', 'Bad request', detail);

/**
 * A biller asks a payer institution to have a bill paid (GovStack's RTP): the request is stored with its expiry,
 * and sent to the payer institution by the callback worker (retried until it takes it) in the same transaction.
 */
export async function requestToPay(context: Pick<ServiceContext, 'db' | 'queues' | 'logger' | 'config'>, caller: Caller, origin: RequestOrigin, input: TransferRequestInput, idempotency: Idempotency): Promise<{ reply: TransferRequestReply; replayed: boolean }> {
  const biller = await ownBiller(context.db, caller, input.billerCode);
  if (!biller.prefixes.some((prefix) => input.billId.startsWith(prefix))) {
    throw badRequest(`bill ID ${input.billId} does not start with a prefix of biller ${biller.code} (${biller.prefixes.join(', ')})`);
  }
  const currency = input.currency ?? biller.currency;
  const amount = parseMoney(input.amount, currency);
  if (!amount.ok) throw badRequest(`billDetails.${amount.field}: ${amount.reason}`);
  const expiresAt = input.expiresAt ?? new Date(Date.now() + context.config.RTP_EXPIRY_MS);
  if (expiresAt.getTime() <= Date.now()) throw badRequest('expiresAt must be in the future');
  const { institution, financialAddress } = await payerOf(context.db, biller, input.payer);
  if (institution.rtpUrl === null) throw new ProblemError(422, 'payer_takes_no_requests', 'Unprocessable', `payer institution ${institution.code} takes no requests to pay`);
  const rtpUrl = institution.rtpUrl;

  const { result: reply, replayed } = await runOnce(context.db, caller.organisationId, idempotency, async (trx): Promise<TransferRequestReply> => {
    const id = randomUUID();
    const inserted = await insertTransferRequest(trx, {
      id, billerId: biller.id, rtpId: input.rtpId, requestId: input.requestId, billId: input.billId, currency, amountMinor: amount.money.minor,
      payerInstitutionId: institution.id, payerAddress: financialAddress, tenantId: input.tenantId, callbackUrl: input.callbackUrl, expiresAt,
    });
    if (!inserted) throw conflict('transfer_request_exists', `biller ${biller.code} used rtpId ${input.rtpId} or requestId ${input.requestId} for another request to pay`);
    await queueCallback(context, {
      organisationId: institution.organisationId,
      url: rtpUrl,
      eventType: 'bill.request_to_pay',
      // payerRtpRequest.yml, with what the payer institution needs besides: whose account, in what currency, until when.
      body: {
        TxnID: input.requestId,
        rTPID: rtpIdOf(input),
        billDetails: { 'Bill ID': input.billId, 'Biller Name': biller.name, Amount: Number(formatMoney(amount.money)), Currency: currency },
        ...(financialAddress ? { financialAddress } : {}),
        expiresAt: expiresAt.toISOString(),
      },
      dedupeKey: `transfer-request:${id}`,
      headers: { 'X-CorrelationID': input.correlationId, 'X-Platform-TenantId': input.tenantId, 'X-billerId': biller.code },
    }, trx);
    await appendAudit(trx, {
      organisationId: caller.organisationId, clientId: caller.clientId, actor: caller.clientName, action: 'transfer_request.create', target: id,
      sourceIp: origin.sourceIp, requestId: origin.requestId,
      detail: { biller: biller.code, rtp_id: input.rtpId, bill_id: input.billId, payer_institution: institution.code, amount_minor: amount.money.minor.toString(), currency },
    });
    return { responseCode: '00', responseDescription: `request to pay bill ${input.billId} sent to payer institution ${institution.code}`, requestID: input.requestId };
  });
  return { reply, replayed };
}

async function payerOf(db: Database, biller: Biller, payer: PayerOfRequest): Promise<{ institution: PayerInstitution; financialAddress: string | null }> {
  if (payer.requestType === '00') {
    const institution = await findPayerInstitutionByCode(db, payer.payerInstitutionCode);
    if (!institution) throw new ProblemError(404, 'payer_institution_not_found', 'Not found', `payer institution ${payer.payerInstitutionCode} is not linked to Kassa`);
    return { institution, financialAddress: payer.financialAddress };
  }
  const found = await findPayerInstitutionByAlias(db, biller.organisationId, payer.alias);
  if (!found) throw new ProblemError(404, 'payer_institution_not_found', 'Not found', `the account mapper knows no payer institution for alias ${payer.alias}`);
  return found;
}
