import pino, { type Logger } from 'pino';

/** Paths that may carry secrets or personal data; pino replaces them before a line is written. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.password',
  '*.payer.value',
  '*.payee.value',
  'payer.value',
  'payee.value',
  '*.accountNumber',
  '*.msisdn',
  '*.iban',
  'financialAddress',
  '*.financialAddress',
  '*.FinancialAddress',
  '*.financial_address',
  'voucherNumber',
  '*.voucherNumber',
  '*.voucher_number',
  '*.voucherSecretNumber',
  '*.VoucherSecretHash',
  'voucherInstructions[*].voucherNumber',
  '*.voucherInstructions[*].voucherNumber',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'kassa' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
