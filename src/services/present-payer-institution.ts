import type { PayerInstitution } from '../db/repositories/payer-institutions.ts';

export function presentPayerInstitution(institution: PayerInstitution) {
  return {
    id: institution.id,
    code: institution.code,
    name: institution.name,
    settlement_account: institution.settlementAccount,
    rtp_url: institution.rtpUrl,
    created_at: institution.createdAt.toISOString(),
  };
}
