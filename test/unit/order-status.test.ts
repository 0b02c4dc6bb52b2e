import assert from 'node:assert/strict';
import { CANCELLABLE_STATUSES, ORDER_STATUSES, canTransition, isFinal, statusesLeadingTo } from '../../src/domain/order-status.ts';

describe('the order state machine', () => {
  const legal = new Set([
    'received>queued', 'received>submitted', 'received>cancelled', 'queued>submitted', 'queued>cancelled',
    'submitted>completed', 'submitted>failed', 'submitted>unknown', 'unknown>completed', 'unknown>failed',
    'submitted>requires_action', 'requires_action>completed', 'requires_action>failed', 'requires_action>unknown',
    'completed>returned',
  ]);
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      const expected = legal.has(`${from}>${to}`);
      it(`when an order is ${from}, then moving it to ${to} is ${expected ? 'allowed' : 'refused'}`, () => {
        assert.equal(canTransition(from, to), expected);
      });
    }
  }

  it('when an order is final, then nothing can move it but a return of a completed payment', () => {
    for (const status of ORDER_STATUSES.filter(isFinal)) {
      assert.deepEqual(ORDER_STATUSES.filter((to) => canTransition(status, to)), status === 'completed' ? ['returned'] : []);
    }
    assert.equal(isFinal('returned'), true);
    assert.deepEqual(statusesLeadingTo('returned'), ['completed']);
  });

  it('when an order reached a rail, then it can no longer be cancelled', () => {
    assert.deepEqual([...CANCELLABLE_STATUSES].sort(), ['queued', 'received']);
    assert.deepEqual(statusesLeadingTo('completed').sort(), ['requires_action', 'submitted', 'unknown']);
  });
});
