// The rule CI applies to the gas snapshot: above by more than 2% fails, below by more than 2%
// only warns, a row on one side only fails.
import { expect } from "chai";
import { compareToSnapshot } from "../../scripts/bench/gas-snapshot.js";

describe("gas snapshot check", function () {
  const snapshot = { register: 100_000, split2: 200_000 };

  it("passes a run within 2% either way", function () {
    const result = compareToSnapshot(snapshot, { register: 102_000, split2: 196_000 });
    expect(result.ok).to.equal(true);
    expect([result.regressions, result.improvements, result.missing]).to.deep.equal([[], [], []]);
  });

  it("fails a row more than 2% above its snapshot and names it with old, new and ratio", function () {
    const result = compareToSnapshot(snapshot, { register: 102_001, split2: 200_000 });
    expect(result.ok).to.equal(false);
    expect(result.regressions).to.deep.equal(["register"]);
    expect(result.lines[0]).to.equal(
      "gas: FAIL register: snapshot 100,000, now 102,001, ratio 1.0200 (more than 2% above the snapshot)",
    );
  });

  it("only warns about a row more than 2% below its snapshot", function () {
    const result = compareToSnapshot(snapshot, { register: 97_999, split2: 200_000 });
    expect(result.ok).to.equal(true);
    expect(result.improvements).to.deep.equal(["register"]);
    expect(result.lines[0]).to.match(/^gas: warning register: .* update the snapshot\)$/);
  });

  it("fails a row measured but not in the snapshot, and one in the snapshot but not measured", function () {
    const result = compareToSnapshot(snapshot, { register: 100_000, settle: 50_000 });
    expect(result.ok).to.equal(false);
    expect(result.missing).to.deep.equal(["split2", "settle"]);
  });
});
