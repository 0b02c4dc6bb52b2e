import assert from 'node:assert/strict';
import { accountCode, ACCOUNTS, fundsBlocked, fundsReleased, movementsInto, ORDER_MOVEMENTS, type OrderMovement } from '../../src/domain/ledger.ts';

const sumOf = (movement: OrderMovement, measure: 'amount' | 'rail_fee') =>
  movement.legs.filter((leg) => leg.measure === measure).reduce((sum, leg) => sum + leg.sign, 0);
const find = (journal: string, fromProgram: boolean) => ORDER_MOVEMENTS.find((movement) => movement.journal === journal && movement.fromProgram === fromProgram)!;
const sides = (movement: OrderMovement) => movement.legs.filter((leg) => leg.measure === 'amount').map((leg) => [leg.account.segments.join(':'), leg.sign]);

describe('ledger postings', () => {
  it('when any order movement is posted, then its amount legs and its rail fee legs each sum to zero', () => {
    for (const movement of ORDER_MOVEMENTS) {
      assert.equal(sumOf(movement, 'amount'), 0, `${movement.journal} (program: ${movement.fromProgram}) balances`);
      assert.equal(sumOf(movement, 'rail_fee'), 0, `${movement.journal} (program: ${movement.fromProgram}) rail fee balances`);
      assert.ok(movement.legs.length >= 2);
    }
  });

  it('when a dispatched benefit fails, then its journal is the dispatch turned around', () => {
    for (const fromProgram of [true, false]) {
      const dispatched = find('benefit_dispatched', fromProgram);
      const failed = find('benefit_failed', fromProgram);
      assert.equal(failed.reverses, 'submitted');
      assert.deepEqual(sides(failed).map(([account, sign]) => [account, -Number(sign)]).sort(), sides(dispatched).sort());
    }
  });

  it('when a completed benefit is returned, then what it spent goes back where the dispatch took it from', () => {
    const completed = find('benefit_completed', true);
    const returned = find('benefit_returned', true);
    assert.equal(returned.reverses, 'completed');
    const spent = completed.legs.find((leg) => leg.sign === 1 && leg.measure === 'amount')!.account;
    const heldAt = find('benefit_dispatched', true).legs.find((leg) => leg.sign === -1)!.account;
    assert.deepEqual(sides(returned), [[heldAt.segments.join(':'), 1], [spent.segments.join(':'), -1]]);
  });

  it('when a collected fee is returned, then its journal is the collection turned around, the rail fee left out', () => {
    const collected = ORDER_MOVEMENTS.find((movement) => movement.journal === 'fee_collected')!;
    const returned = ORDER_MOVEMENTS.find((movement) => movement.journal === 'fee_returned')!;
    assert.equal(returned.reverses, 'completed');
    assert.deepEqual(sides(returned).map(([account, sign]) => [account, -Number(sign)]).sort(), sides(collected).sort());
    assert.ok(collected.legs.some((leg) => leg.measure === 'rail_fee'));
    assert.ok(!returned.legs.some((leg) => leg.measure === 'rail_fee'));
  });

  it('when an order moves into a status that moves no money, then nothing is posted', () => {
    for (const status of ['received', 'queued', 'requires_action', 'unknown', 'cancelled'] as const) assert.deepEqual(movementsInto(status), [], status);
    assert.deepEqual(movementsInto('completed').map((movement) => movement.journal).sort(), ['benefit_completed', 'benefit_completed', 'fee_collected']);
  });

  it('when an account code is filled in, then a missing institution is left out rather than left empty', () => {
    assert.equal(accountCode(ACCOUNTS.clearing, { rail: 'sandbox', institution: 'MPESA' }), 'clearing:sandbox:MPESA');
    assert.equal(accountCode(ACCOUNTS.clearing, { rail: 'sandbox', institution: null }), 'clearing:sandbox');
    assert.equal(accountCode(ACCOUNTS.programReserved, { program: 'p1' }), 'program:p1:reserved');
    assert.equal(accountCode(ACCOUNTS.feeRevenue, {}), 'fees:revenue');
  });

  it('when a batch blocks and releases funds, then each journal balances and the release turns the block around', () => {
    const funds = { organisationId: 'o', programId: 'p', batchId: 'b', currency: 'KES' };
    const blocked = fundsBlocked(funds, 60000n);
    const released = fundsReleased(funds, 60000n);
    assert.equal(blocked.postings.reduce((sum, posting) => sum + posting.amountMinor, 0n), 0n);
    assert.deepEqual(blocked.postings.map((posting) => [posting.account.code, posting.amountMinor]), [['program:p:reserved', 60000n], ['program:p:budget', -60000n]]);
    assert.deepEqual(
      released.postings.map((posting) => [posting.account.code, posting.amountMinor]).sort(),
      blocked.postings.map((posting) => [posting.account.code, -posting.amountMinor]).sort(),
    );
    assert.equal(blocked.batchId, 'b');
    assert.equal(released.kind, 'benefit_funds_released');
  });
});
