// Values that never change once known (a document's facts by its hash, a receivable's
// repayment time), kept in memory so each rescore does not read them again. Bounded: once
// full, further values are read each time and not kept. Never evicted: an evicting cache
// smaller than one party's history misses on every row of every rescore, as each pass
// evicts what the next one needs first (seen at 20,000 with FIFO).
export class KeptValues<K, V> {
  readonly #values = new Map<K, V>();

  constructor(private capacity: number) {}

  get(key: K): V | undefined {
    return this.#values.get(key);
  }

  /** Keeps `value` while there is room; answers it either way. */
  keep(key: K, value: V): V {
    if (this.#values.size < this.capacity) this.#values.set(key, value);
    return value;
  }

  /** For tests: forget everything, and keep at most `capacity` from now on. */
  reset(capacity: number): void {
    this.capacity = capacity;
    this.#values.clear();
  }
}
