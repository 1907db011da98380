// The median wall time of `runs` runs of `run`, in milliseconds: what the in-process benches
// print, so one slow run (a GC pause, the machine's other work) does not move the figure.
export async function medianMs(runs: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}
