// Progress of a long job on stderr (stdout stays the job's result): one line each time
// another tenth is done, and at the end.
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
