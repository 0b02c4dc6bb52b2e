import assert from 'node:assert/strict';
import { newOrderId } from '../../src/domain/order.ts';

describe('order ids', () => {
  it('when ids are made one after another, then they sort in the order they were made and are RFC 9562 version 7 UUIDs', () => {
    const ids = Array.from({ length: 1000 }, () => newOrderId());
    assert.deepEqual(ids.toSorted(), ids);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('when an id is read, then its first 48 bits are the moment it was made, in milliseconds', () => {
    const before = Date.now();
    const id = newOrderId();
    const madeAt = Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    assert.ok(madeAt >= before && madeAt <= Date.now(), `${madeAt} within [${before}, now]`);
  });
});
