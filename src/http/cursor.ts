import { ValidationError } from '../domain/errors.ts';
import { idSchema } from './schemas.ts';

/** Keyset cursors on (created_at, id): opaque to clients, stable while rows arrive. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !idSchema.safeParse(id).success) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new ValidationError([{ field: 'query.cursor', reason: 'is not a cursor this API returned' }]);
  }
}
