import { ContractError, type Contract } from './contract.js';

/**
 * Burns `rounds` rounds of deterministic 32-bit arithmetic (xorshift and
 * multiply) and folds the result into a slot: heavy, CPU-bound transactions
 * whose conflicts are chosen by the caller through the slot number.
 * args: rounds u32 LE | slot u32 LE. One gas unit per round.
 */
export const work: Contract = {
  name: 'work',
  keys(_sender, args) {
    if (args.length !== 8) return ['work:invalid'];
    return [`work:${new DataView(args.buffer, args.byteOffset, 8).getUint32(4, true)}`];
  },
  execute(ctx, args) {
    if (args.length !== 8) throw new ContractError('work args are rounds u32 | slot u32');
    const rounds = new DataView(args.buffer, args.byteOffset, 8).getUint32(0, true);
    ctx.useGas(rounds);
    const start = ctx.read(0);
    let x = Number(start & 0xffffffffn) | 1;
    for (let i = 0; i < rounds; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x = Math.imul(x, 0x9e3779b1) | 0;
    }
    ctx.write(0, (start + BigInt(x >>> 0)) & 0xffffffffffffffffn);
  },
};
