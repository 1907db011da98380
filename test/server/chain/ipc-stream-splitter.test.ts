// The IPC transport's stream splitter (chain/ipc-transport.ts): whatever way the socket cuts
// the chain's answers into chunks, each top-level JSON value comes out whole and in order —
// strings holding braces, brackets, escaped quotes and backslashes included.
import { expect } from "chai";
import fc from "fast-check";
import { JsonStreamSplitter } from "../../../server/chain/ipc-transport.js";

const RUNS = 500;
const SEED = 12;

// Strings made of the characters that matter to the splitter, so every case is exercised often.
const tricky = fc.string({ unit: fc.constantFrom("{", "}", "[", "]", '"', "\\", "a", "0", " ", "\n", "é") });
const value = fc.oneof(
  fc.dictionary(tricky, fc.oneof(tricky, fc.integer(), fc.array(tricky, { maxLength: 3 })), { maxKeys: 4 }),
  fc.array(fc.oneof(tricky, fc.dictionary(tricky, tricky, { maxKeys: 2 })), { maxLength: 4 }),
);

/** Cuts `text` at the given fractions of its length. */
function cut(text: string, fractions: number[]): string[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(text.slice(from, p));
    from = p;
  }
  chunks.push(text.slice(from));
  return chunks;
}

describe("the IPC stream splitter", () => {
  it(`gives back every value whole and in order, however the stream is cut (${RUNS} runs, seed ${SEED})`, () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.array(fc.constantFrom("", "\n", " ", "\r\n"), { minLength: 5, maxLength: 5 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (values, separators, fractions) => {
          const texts = values.map((v) => JSON.stringify(v));
          const stream = texts.map((t, i) => t + separators[i % separators.length]).join("");
          const splitter = new JsonStreamSplitter();
          const out = cut(stream, fractions).flatMap((chunk) => splitter.push(chunk));
          expect(out).to.deep.equal(texts);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("keeps an unfinished value until its end arrives, then resumes with the next", () => {
    const splitter = new JsonStreamSplitter();
    expect(splitter.push('{"result":"0x{\\"')).to.deep.equal([]);
    expect(splitter.push('\\\\","id":1}[{"id":2}')).to.deep.equal(['{"result":"0x{\\"\\\\","id":1}']);
    expect(splitter.push("]")).to.deep.equal(['[{"id":2}]']);
  });
});
