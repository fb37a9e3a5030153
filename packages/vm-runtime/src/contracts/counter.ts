import { ContractError, type Contract } from './contract.js';

/** Increments a named counter (the args bytes name it; empty args: one global counter). */
export const counter: Contract = {
  name: 'counter',
  keys: (_sender, args) => [`counter:${Buffer.from(args).toString('hex')}`],
  execute(ctx) {
    ctx.useGas(10);
    const value = ctx.read(0);
    if (value >= 0xffffffffffffffffn) throw new ContractError('counter overflow');
    ctx.write(0, value + 1n);
  },
};
