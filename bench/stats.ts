/** Percentile of raw samples (nearest rank), for latency figures. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

export const ms = (n: number) => `${n.toFixed(1)} ms`;
export const perSecond = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
