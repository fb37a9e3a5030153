import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BusyTime, passNanoseconds, TIMESTAMP_BYTES } from '../src/gpu/timing.js';

describe('GPU timing', () => {
  test('BusyTime counts overlapping intervals once, in any order of arrival', () => {
    const busy = new BusyTime();
    busy.add(5, 12); // overlaps the next by 5, and arrives first
    busy.add(0, 10);
    busy.add(20.5, 20.7); // inside a later one
    busy.add(12, 15); // touches
    busy.add(20, 21); // after a gap of 5 that is idle
    busy.add(30, 30); // empty
    assert.equal(busy.total, 16);
  });

  test('passNanoseconds reads two little-endian u64 timestamps at an offset', () => {
    const bytes = new Uint8Array(8 + TIMESTAMP_BYTES);
    const view = new DataView(bytes.buffer);
    // Beyond 2^53 ns (104 days of uptime) the difference must still be exact.
    const begin = 2n ** 60n + 123n;
    view.setBigUint64(8, begin, true);
    view.setBigUint64(16, begin + 4_567_890n, true);
    assert.equal(passNanoseconds(bytes, 8), 4_567_890);
  });

  test('passNanoseconds rejects zeros and reversed timestamps instead of reporting nonsense', () => {
    const bytes = new Uint8Array(TIMESTAMP_BYTES);
    assert.equal(passNanoseconds(bytes, 0), undefined);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, 500n, true);
    view.setBigUint64(8, 400n, true);
    assert.equal(passNanoseconds(bytes, 0), undefined);
  });
});
