// Times async variants in rounds that run each once, in an order rotated every
// round, so warm-up and machine drift hit every variant alike. The first
// `warmup` rounds are not kept. Returns each variant's median ms.
export async function medianRotated(variants, rounds, warmup) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds + warmup; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      const t0 = performance.now();
      await variants[name]();
      if (r >= warmup) times[name].push(performance.now() - t0);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(names.map((k) => [k, median(times[k])]));
}

// The same, with `block` back-to-back runs of a variant per turn (as a bench row
// runs them), so a pool whose workers poll between batches is seen as used; turns
// start 3 ms apart, after any polling has ended.
export async function medianRotatedBlocks(variants, rounds, warmup, block) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < rounds + warmup; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length];
      await new Promise((resolve) => setTimeout(resolve, 3));
      for (let b = 0; b < block; b++) {
        const t0 = performance.now();
        await variants[name]();
        if (r >= warmup) times[name].push(performance.now() - t0);
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(names.map((k) => [k, median(times[k])]));
}
