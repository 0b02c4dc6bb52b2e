import assert from 'node:assert/strict';
import { amountDue, billPaymentOutcome, transferRequestStatus, type TransferRequestDecision } from '../../src/domain/bill.ts';
import { ORDER_STATUSES } from '../../src/domain/order-status.ts';

describe('bills', () => {
  describe('the amount a payment owes', () => {
    const dueAt = new Date('2026-12-01T00:00:00Z');
    const bill = { dueAt, amountOnDueMinor: 10_000n, amountAfterDueMinor: 12_500n };

    it('when paid before or on the due date, then the amount on the due date is owed', () => {
      assert.equal(amountDue(bill, new Date('2026-11-30T23:59:59Z')), 10_000n);
      assert.equal(amountDue(bill, dueAt), 10_000n);
    });

    it('when paid after the due date, then the amount after the due date is owed', () => {
      assert.equal(amountDue(bill, new Date('2026-12-01T00:00:01Z')), 12_500n);
    });

    it('when the biller gives no amount after the due date, or no due date, then the one amount is owed at any time', () => {
      assert.equal(amountDue({ ...bill, amountAfterDueMinor: null }, new Date('2027-06-01T00:00:00Z')), 10_000n);
      assert.equal(amountDue({ ...bill, dueAt: null }, new Date('2027-06-01T00:00:00Z')), 10_000n);
    });
  });

  describe('a payment is its fee order', () => {
    it('when the order completed (even if later returned), then the bill is paid; failed or cancelled, then not; else under way', () => {
      const outcomes = Object.fromEntries(ORDER_STATUSES.map((status) => [status, billPaymentOutcome(status)]));
      assert.deepEqual(outcomes, {
        received: 'in_progress', queued: 'in_progress', submitted: 'in_progress', requires_action: 'in_progress', unknown: 'in_progress',
        completed: 'paid', returned: 'paid', failed: 'failed', cancelled: 'failed',
      });
    });

    it('when a voucher paying the bill has not made its order yet, then the payment is under way', () => {
      assert.equal(billPaymentOutcome(null), 'in_progress');
    });
  });

  describe('the status of a request to pay', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const open = new Date('2026-11-25T13:00:00Z');
    const lapsed = new Date('2026-11-25T11:00:00Z');
    const status = (decision: TransferRequestDecision, expiresAt: Date, payment?: 'in_progress' | 'paid' | 'failed') => transferRequestStatus({ decision, expiresAt }, payment, now);

    it('when nothing happened yet, then it is pending until it expires', () => {
      assert.equal(status('pending', open), 'PND');
      assert.equal(status('accepted', open), 'PND');
      assert.equal(status('pending', lapsed), 'EXP');
      assert.equal(status('accepted', lapsed), 'EXP');
      assert.equal(status('pending', now), 'EXP', 'it lapses at its expiry time, not after');
    });

    it('when the payment made against it is paid, then it is complete, whatever its time', () => {
      assert.equal(status('accepted', open, 'paid'), 'COM');
      assert.equal(status('accepted', lapsed, 'paid'), 'COM');
    });

    it('when a payment is under way at its expiry, then it stays pending: the payer answered in time', () => {
      assert.equal(status('accepted', lapsed, 'in_progress'), 'PND');
    });

    it('when the payment failed, then it is as if none was made', () => {
      assert.equal(status('accepted', open, 'failed'), 'PND');
      assert.equal(status('accepted', lapsed, 'failed'), 'EXP');
    });

    it('when rejected or cancelled, then it says so, expired or not', () => {
      assert.equal(status('rejected', open), 'RJC');
      assert.equal(status('rejected', lapsed), 'RJC');
      assert.equal(status('cancelled', open), 'CAN');
      assert.equal(status('cancelled', lapsed), 'CAN');
    });
  });
});
