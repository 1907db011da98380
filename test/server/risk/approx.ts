// Float comparisons for the network tests. Hardhat's chai matchers take over closeTo,
// within and at.most for bigints and refuse non-integer numbers once they are loaded
// (as they are when the whole suite runs), so these compare plain numbers themselves.
import { expect } from "chai";

export function expectClose(actual: number | undefined, expected: number, tolerance: number, label = ""): void {
  expect(actual, `${label} is undefined`).to.not.equal(undefined);
  const difference = Math.abs(actual! - expected);
  expect(
    difference <= tolerance,
    `${label} ${actual} is not within ${tolerance} of ${expected} (off by ${difference})`,
  ).to.equal(true);
}

export function expectAtMost(actual: number, limit: number, label = ""): void {
  expect(actual <= limit, `${label} ${actual} is above ${limit}`).to.equal(true);
}
