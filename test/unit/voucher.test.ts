import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, voucherNumberKey } from '../../src/config/index.ts';
import { formatDuration, parseDuration } from '../../src/domain/duration.ts';
import {
  generateVoucherNumbers, hashVoucherNumber, isVoucherNumber, merchantMayRedeem, parseSerialNumber, refusalOf, releasesBudget, statusAfter, statusesAllowing,
  VOUCHER_COMMANDS, VOUCHER_STATUSES, type VoucherCommand, type VoucherStatus,
} from '../../src/domain/voucher.ts';
import { createLogger } from '../../src/observability/logger.ts';

describe('the voucher state machine', () => {
  const legal: Record<VoucherCommand, [VoucherStatus[], VoucherStatus]> = {
    activate: [['pre_activated'], 'activated'],
    suspend: [['activated'], 'suspended'],
    unsuspend: [['suspended'], 'activated'],
    redeem: [['activated'], 'redeemed'],
    cancel: [['pre_activated', 'activated', 'suspended'], 'cancelled'],
    expire: [['pre_activated', 'activated', 'suspended'], 'expired'],
  };
  for (const command of VOUCHER_COMMANDS) {
    it(`when a voucher is told to ${command}, then only ${legal[command][0].join(', ')} vouchers move, to ${legal[command][1]}`, () => {
      assert.deepEqual([...statusesAllowing(command)].sort(), [...legal[command][0]].sort());
      assert.equal(statusAfter(command), legal[command][1]);
    });
  }

  it('when a voucher is pre-activated, then every other status is one command away from some status', () => {
    const reached = new Set(VOUCHER_COMMANDS.map(statusAfter));
    assert.deepEqual(VOUCHER_STATUSES.filter((status) => !reached.has(status)), ['pre_activated'], 'only creation makes a pre-activated voucher');
  });

  it('when a voucher is redeemed, cancelled or expired, then no command moves it any more', () => {
    for (const status of ['redeemed', 'cancelled', 'expired'] as const) {
      assert.deepEqual(VOUCHER_COMMANDS.filter((command) => statusesAllowing(command).includes(status)), []);
    }
  });

  it('when vouchers end unused, then their amounts go back to the budget; a redemption keeps it spent', () => {
    assert.deepEqual(VOUCHER_COMMANDS.filter(releasesBudget), ['cancel', 'expire']);
  });
});

describe('why a voucher command is refused', () => {
  const state = (status: VoucherStatus, pastExpiry = false) => ({ status, pastExpiry });

  it('when there is no such voucher, then redemption says invalid number (461), cancellation invalid voucher (463), the rest invalid serial (456)', () => {
    assert.equal(refusalOf('redeem', undefined), 'invalid_voucher_number');
    assert.equal(refusalOf('cancel', undefined), 'invalid_voucher');
    for (const command of ['activate', 'suspend', 'unsuspend'] as const) assert.equal(refusalOf(command, undefined), 'invalid_serial_number');
  });

  it('when the voucher was redeemed, cancelled or expired, then every command says so (458, 464, 459)', () => {
    for (const command of ['activate', 'suspend', 'unsuspend', 'redeem', 'cancel'] as const) {
      assert.equal(refusalOf(command, state('redeemed')), 'already_used');
      assert.equal(refusalOf(command, state('cancelled')), 'already_cancelled');
      assert.equal(refusalOf(command, state('expired')), 'expired');
    }
  });

  it('when the validity ran out before the expiry run marked the voucher, then it is refused as expired', () => {
    assert.equal(refusalOf('redeem', state('activated', true)), 'expired');
    assert.equal(refusalOf('activate', state('pre_activated', true)), 'expired');
  });

  it('when a suspended or not yet activated voucher is redeemed, then it is an invalid voucher (463)', () => {
    assert.equal(refusalOf('redeem', state('suspended')), 'invalid_voucher');
    assert.equal(refusalOf('redeem', state('pre_activated')), 'invalid_voucher');
    assert.equal(refusalOf('suspend', state('pre_activated')), 'invalid_voucher');
  });

  it('when a voucher already is where the command takes it, then that is no failure', () => {
    assert.equal(refusalOf('activate', state('activated')), undefined);
    assert.equal(refusalOf('suspend', state('suspended')), undefined);
    assert.equal(refusalOf('unsuspend', state('activated')), undefined);
  });
});

describe('merchants and voucher groups', () => {
  it('when a merchant is registered for some groups, then it takes only those, unless the request overrides', () => {
    assert.equal(merchantMayRedeem(['SCH'], 'SCH', false), true);
    assert.equal(merchantMayRedeem(['SCH'], 'GEN', false), false);
    assert.equal(merchantMayRedeem(['SCH'], 'GEN', true), true);
    assert.equal(merchantMayRedeem(null, 'GEN', false), true);
  });
});

describe('voucher numbers and serial numbers', () => {
  it('when numbers are generated, then each is 16 digits below 2^53, and 100,000 of them are all different', () => {
    const numbers = generateVoucherNumbers(100_000);
    assert.equal(numbers.length, 100_000);
    assert.equal(new Set(numbers).size, 100_000);
    for (const number of numbers) {
      assert.ok(isVoucherNumber(number), number);
      assert.ok(Number.isSafeInteger(Number(number)), `${number} survives being sent as a JSON number`);
    }
  });

  it('when numbers are generated, then every leading digit from 1 to 8 turns up about as often: nothing favours some numbers', () => {
    const counts = new Map<string, number>();
    for (const number of generateVoucherNumbers(80_000)) counts.set(number[0]!, (counts.get(number[0]!) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), ['1', '2', '3', '4', '5', '6', '7', '8']);
    for (const [digit, count] of counts) assert.ok(count > 9_000 && count < 11_000, `leading ${digit}: ${count} of 80,000`);
  });

  it('when a number is hashed, then the hash depends on the key, and the same number and key always give the same hash', () => {
    const [number] = generateVoucherNumbers(1);
    const key = 'k'.repeat(32);
    assert.equal(hashVoucherNumber(number!, key), hashVoucherNumber(number!, key));
    assert.notEqual(hashVoucherNumber(number!, key), hashVoucherNumber(number!, 'x'.repeat(32)));
    assert.match(hashVoucherNumber(number!, key), /^[0-9a-f]{64}$/);
    assert.ok(!hashVoucherNumber(number!, key).includes(number!));
  });

  it('when Kassa starts in production without a key for voucher numbers, or with a short one, then it refuses to start and names the setting', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production' }), (error: Error) => error instanceof ConfigError && /VOUCHER_NUMBER_KEY: is required in production/.test(error.message));
    assert.throws(() => loadConfig({ NODE_ENV: 'production', VOUCHER_NUMBER_KEY: 'short' }), /VOUCHER_NUMBER_KEY: must be a secret of at least 32 characters/);
    const key = 's'.repeat(40);
    assert.equal(voucherNumberKey(loadConfig({ NODE_ENV: 'production', VOUCHER_NUMBER_KEY: key })), key);
    assert.ok(voucherNumberKey(loadConfig({ NODE_ENV: 'development' })).length >= 32, 'development runs on a fixed key of its own');
  });

  it('when a serial number comes as a string or an integer, then it is read; anything else is no serial number', () => {
    assert.equal(parseSerialNumber('1000000001'), 1000000001n);
    assert.equal(parseSerialNumber(1000000001), 1000000001n);
    for (const bad of ['', 'abc', '-5', '12.5', '0', 0, 1.5, 2 ** 60, '1'.repeat(19)]) assert.equal(parseSerialNumber(bad), undefined, String(bad));
  });

  it('when a voucher number is logged by mistake, then the log shows it redacted', () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } }));
    const [number] = generateVoucherNumbers(1);
    logger.info({ voucherNumber: number, body: { voucher_number: number, voucherSecretNumber: number }, reply: { voucherInstructions: [{ serialNumber: '1000000001', voucherNumber: number }] } }, 'vouchers');
    assert.ok(!lines.join('').includes(number!), lines.join(''));
    assert.equal(JSON.parse(lines.join('')).reply.voucherInstructions[0].serialNumber, '1000000001', 'serial numbers may be shown');
  });
});

describe('validity durations', () => {
  it('when a duration is written in ISO 8601 days, hours, minutes and seconds, then it is read in seconds and written back the same', () => {
    for (const [text, seconds] of [['P90D', 7_776_000], ['PT12H', 43_200], ['P1DT30M', 88_200], ['PT2S', 2], ['P1DT1H1M1S', 90_061]] as const) {
      assert.equal(parseDuration(text), seconds, text);
      assert.equal(formatDuration(seconds), text);
    }
  });

  it('when a duration is empty, zero, in months or years, or malformed, then it is refused', () => {
    for (const text of ['P', 'PT', 'P0D', 'P1M', 'P1Y', '90D', 'P1DT', 'PT1.5S', 'p90d']) assert.equal(parseDuration(text), undefined, text);
  });
});
