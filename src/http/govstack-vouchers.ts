import express, { type Request, type RequestHandler, type Response } from 'express';
import { formatMoney, type Money } from '../domain/money.ts';
import { GOVSTACK_VOUCHER_CODES, VoucherRefused, type VoucherRefusal, type VoucherStatus } from '../domain/voucher.ts';
import type { VoucherView } from '../db/repositories/vouchers.ts';
import type { ServiceContext } from '../services/context.ts';
import { authenticate } from './middleware/authenticate.ts';
import { rateLimitPerCredential } from './middleware/rate-limit.ts';
import { GovStackRejection } from './govstack.ts';

// What the GovStack voucher routers of both API generations share: their guards, how a refusal is told apart from
// Kassa's own errors and answered in each call's own shape, and a voucher's status as callers are told it.

/** One pre-activation, activation or cancellation takes up to this many vouchers. */
export const MAX_VOUCHERS_PER_REQUEST = 100_000;

/**
 * Bearer credential, rate limit and a JSON body with room for MAX_VOUCHERS_PER_REQUEST instructions. Scopes differ
 * per call (issuers write benefits, merchants redeem), so each use case checks its own.
 */
export function voucherGuards(context: ServiceContext): RequestHandler[] {
  return [
    authenticate(context.db, context.config.AUTH_CACHE_TTL_MS),
    rateLimitPerCredential(context.config.RATE_LIMIT_PER_MINUTE),
    express.json({ limit: '32mb', strict: true }),
  ];
}

/**
 * A refusal in GovStack's terms: the HTTP status (a voucher code 452…464, or 400 for a malformed request), the reason
 * when it is a voucher's, GovStack's words and Kassa's detail.
 */
export interface VoucherReplyRefusal {
  readonly status: number;
  readonly reason?: VoucherRefusal;
  readonly message: string;
  readonly detail: string;
}

export function voucherRefusal(reason: VoucherRefusal, detail: string): VoucherReplyRefusal {
  const { code, message } = GOVSTACK_VOUCHER_CODES[reason];
  return { status: code, reason, message, detail };
}

/** A refusal a router words itself, where GovStack's words for the same code differ from call to call. */
export class WordedRefusal extends Error {
  override name = 'WordedRefusal';
  constructor(readonly refusal: VoucherReplyRefusal) {
    super(refusal.detail);
  }
}

/** The refusal an error stands for, or undefined when it is not one (Kassa's own errors go on as problem+json). */
export function refusalOf(error: unknown): VoucherReplyRefusal | undefined {
  if (error instanceof WordedRefusal) return error.refusal;
  if (error instanceof VoucherRefused) return voucherRefusal(error.reason, error.detail);
  if (error instanceof GovStackRejection) return { status: error.status, message: 'Invalid request', detail: error.description };
  return undefined;
}

/** Runs the handler, answering a refusal in the call's own reply shape. */
export function replying(reply: (req: Request, res: Response, refusal: VoucherReplyRefusal) => void, handler: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    try {
      await handler(req, res, next);
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      reply(req, res, refusal);
    }
  };
}

/** A voucher's status as the caller sees it: one whose validity ran out is expired, whether or not the expiry run has marked it. */
export function shownStatus(voucher: Pick<VoucherView, 'status' | 'pastExpiry'>): VoucherStatus {
  return voucher.pastExpiry && voucher.status !== 'redeemed' && voucher.status !== 'cancelled' ? 'expired' : voucher.status;
}

/** The serial number a path names, as given. */
export function serialNumberParamOf(req: Request): string {
  const given = req.params.serialNumber;
  return typeof given === 'string' ? given : '';
}

/** GovStack gives amounts as JSON numbers. */
export function amountNumber(money: Money): number {
  return Number(formatMoney(money));
}
