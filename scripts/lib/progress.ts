// Progress of long jobs: the benchmarks' count of items done, and the reindex's blocks.
import type { IndexProgress } from "../../server/chain/indexer.js";

/** The throughput benchmark's progress on stderr (stdout stays the job's result): one line each time
 * another tenth is done, and at the end. */
export function progress(label: string, total: number): (done: number) => void {
  let shown = -1;
  return (done) => {
    const tenth = Math.floor((done * 10) / Math.max(1, total));
    if (tenth > shown || done === total) {
      if (tenth === shown && done !== total) return;
      shown = tenth;
      console.error(`${label}: ${done} of ${total} (${Math.floor((done * 100) / Math.max(1, total))} %)`);
    }
  };
}

/** `npm run reindex`'s progress: a line at the first range, then at most one a second, and always the last. */
export function reindexProgress(
  print: (line: string) => void,
  now: () => number = () => performance.now(),
): (progress: IndexProgress) => void {
  let lastPrint = -Infinity;
  return ({ to, head, events }) => {
    if (now() - lastPrint < 1_000 && to < head) return;
    lastPrint = now();
    print(`  block ${to} of ${head} (${((100 * to) / Math.max(head, 1)).toFixed(0)}%), ${events} events`);
  };
}
