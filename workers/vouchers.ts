import type { ServiceContext } from '../src/services/context.ts';
import { expireVouchers } from '../src/services/expire-vouchers.ts';

export function voucherExpiryProcessor(context: ServiceContext) {
  return async (): Promise<void> => {
    await expireVouchers(context);
  };
}
