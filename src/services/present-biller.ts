import type { Biller } from '../db/repositories/billers.ts';

export function presentBiller(biller: Biller) {
  return {
    id: biller.id,
    code: biller.code,
    name: biller.name,
    currency: biller.currency,
    account: biller.account,
    bill_source_url: biller.billSourceUrl,
    prefixes: biller.prefixes,
    created_at: biller.createdAt.toISOString(),
  };
}
