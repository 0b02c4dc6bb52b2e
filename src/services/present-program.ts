import { formatMoney } from '../domain/money.ts';
import type { Program } from '../db/repositories/programs.ts';

export function presentProgram(program: Program) {
  const money = (minor: bigint) => formatMoney({ minor, currency: program.currency });
  return {
    id: program.id,
    code: program.code,
    name: program.name,
    currency: program.currency,
    funding_account: program.fundingAccount,
    budget: money(program.budgetMinor),
    blocked: money(program.reservedMinor),
    disbursed: money(program.disbursedMinor),
    available: money(program.budgetMinor - program.reservedMinor - program.disbursedMinor),
    approval_threshold: money(program.approvalThresholdMinor),
    default: program.isDefault,
    created_at: program.createdAt.toISOString(),
  };
}
