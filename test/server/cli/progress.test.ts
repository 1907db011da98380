// Long jobs (the throughput benchmark) report progress in tenths on stderr.
import { expect } from "chai";
import { progress } from "../../../scripts/lib/progress.js";

describe("progress of a long job", function () {
  it("prints a line per tenth done and one at the end, on stderr", function () {
    const lines: string[] = [];
    const original = console.error;
    console.error = (line: string) => lines.push(line);
    try {
      const tick = progress("registering receivables", 25);
      for (let done = 1; done <= 25; done++) tick(done);
    } finally {
      console.error = original;
    }
    expect(lines[0]).to.equal("registering receivables: 1 of 25 (4 %)");
    expect(lines.at(-1)).to.equal("registering receivables: 25 of 25 (100 %)");
    // 0 % ... 100 %: one line per tenth reached, none twice.
    expect(lines).to.have.length(11);
    expect(new Set(lines).size).to.equal(lines.length);
  });
});
