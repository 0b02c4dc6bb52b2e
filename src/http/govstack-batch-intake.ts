import type { ErrorRequestHandler, Request, Response } from 'express';
import { z } from 'zod';
import type { BatchRowInput } from '../domain/batch.ts';
import { ProblemError, ValidationError } from '../domain/errors.ts';
import type { ServiceContext } from '../services/context.ts';
import { submitBatch, type BatchEnvelope, type SubmittedBatch } from '../services/submit-batch.ts';
import { callerOf } from './middleware/authenticate.ts';
import { originOf } from './request-parts.ts';
import { GovStackRejection, sendGovStackReply } from './govstack.ts';

// What the GovStack batch routes of both generations share: one way to hand a batch to the engine and to turn
// the engine's refusals into GovStack's 400s that name the instruction, header or field at fault.

/** JSON batches up to this size, as on /v1/batches; larger ones go as a CSV file, streamed. */
export const GOVSTACK_BATCH_JSON_LIMIT = '20mb';

/** The files' callback URLs are 20 or 100 characters, too few for real URLs; Kassa's usual limit applies. */
export const govStackCallbackUrl = z.url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? undefined : 'must be an http(s) URL') }).max(2048);

/**
 * An amount as GovStack sends it: a JSON number (as its files say), or a decimal string (as its compliance
 * tests send it). Either is kept as the decimal text it was written as; the engine checks it against the currency.
 */
const amountError = (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : 'must be a number');
export const govStackAmount = z.union([z.number({ error: amountError }), z.string().regex(/^\s*\d+(\.\d+)?\s*$/, { error: amountError })], { error: amountError });

/** How a route names things in its refusals: the instruction at a (1-based) row, the program header. */
export interface RefusalNames {
  readonly instruction: (row: number) => string;
  readonly program: string;
  readonly correlationId: string;
}

/**
 * Stores the batch through the engine. A row wrong in itself, an empty batch, a CSV file that does not parse or
 * an unknown program is a 400 naming it; the correlation id re-used for other content is a 409. Nothing is stored
 * when it refuses.
 */
export async function submitGovStackBatch(context: ServiceContext, req: Request, res: Response, envelope: BatchEnvelope, rows: AsyncIterable<BatchRowInput>, names: RefusalNames): Promise<SubmittedBatch> {
  try {
    return await submitBatch(context, callerOf(res), originOf(req, res), envelope, rows);
  } catch (error) {
    throw refusalOf(error, envelope.correlationId, names) ?? error;
  }
}

function refusalOf(error: unknown, requestId: string, names: RefusalNames): GovStackRejection | undefined {
  if (error instanceof ValidationError) {
    const problems = error.errors.map((problem) => {
      const row = /^row (\d+)$/.exec(problem.field);
      if (row) return `${names.instruction(Number(row[1]))}: ${problem.reason}`;
      return problem.field === 'payments' ? problem.reason : `${problem.field}: ${problem.reason}`;
    });
    return new GovStackRejection(400, `Bad request: ${problems.join('; ')}`, requestId);
  }
  if (error instanceof ProblemError && error.code === 'correlation_id_reused') {
    return new GovStackRejection(409, `Conflict: this ${names.correlationId} was already used for a batch with other content`, requestId);
  }
  if (error instanceof ProblemError && error.code === 'unknown_program') {
    return new GovStackRejection(400, `Bad request: header ${names.program}: ${error.detail ?? 'unknown program'}`, requestId);
  }
  return undefined;
}

/** A body over the limit: the shared handler's advice is about beneficiaries, so batches get their own. */
export function govStackBatchTooLarge(advice: string): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if ((error as { type?: string }).type !== 'entity.too.large') return next(error);
    sendGovStackReply(res, 413, { code: '01', description: `Bad request: a JSON batch is limited to ${GOVSTACK_BATCH_JSON_LIMIT}; ${advice}`, requestId: '' });
  };
}
