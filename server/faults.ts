// Fault injection for the crash tests (test/faults): a named point in the code where the
// process dies at once, as a power cut would — no finally blocks, no shutdown hooks, no
// flushing. Inert unless TIERLINE_CRASH_AT names the point (a comma list names several);
// never set it outside those tests.

/** Dies by SIGKILL here when TIERLINE_CRASH_AT names `name`; otherwise does nothing. */
export function crashPoint(name: string): void {
  const wanted = process.env.TIERLINE_CRASH_AT;
  if (!wanted || !wanted.split(",").some((point) => point.trim() === name)) return;
  process.stderr.write(`TIERLINE_CRASH_AT: crashing at ${name}\n`);
  process.kill(process.pid, "SIGKILL");
}
