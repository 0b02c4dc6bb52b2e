import { createHash } from 'node:crypto';

/**
 * Options that make a statement a named prepared one: PostgreSQL then plans it a few times per connection
 * and reuses the plan after, instead of planning it on every run. The name is taken from the text, so two
 * different statements can never share one. Behind a connection pooler, PgBouncer 1.21 or later (with
 * max_prepared_statements set) or none: older ones in transaction mode lose a connection's prepared statements.
 */
export function preparedAs(sql: string): { name: string } {
  return { name: `kassa_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}` };
}
