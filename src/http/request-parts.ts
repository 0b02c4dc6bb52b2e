import type { Request, Response } from 'express';
import type { RequestOrigin } from '../domain/caller.ts';
import { parseRequest } from './middleware/validate.ts';
import { idParamsSchema } from './schemas.ts';

export function originOf(req: Request, res: Response): RequestOrigin {
  return { sourceIp: req.ip ?? null, requestId: res.locals.requestId as string };
}

export function idParamOf(req: Request): string {
  return parseRequest(idParamsSchema, req.params, 'path').id;
}

