// Arbitraries of bad input for the API's write endpoints: random JSON, mutations of a valid
// body (a field deleted, an unknown field added, a wrong type, a bad value for what the field
// is — amount, date, document number, name, enum, id…) and raw bodies no JSON parser should
// take. Each mutation says whether the schema alone must refuse it (400 VALIDATION_FAILED
// naming the field) or whether it is well-formed but refused by the state (any 4xx).
import fc from "fast-check";

export type Json = fc.JsonValue;
type Path = Array<string | number>;

/** What a field is, so a bad value can be made for it. */
export type FieldKind =
  /** `anyWellFormed`: every well-formed amount is accepted (a limit), so none is sent as "refused". */
  | { kind: "amount"; positive: boolean; anyWellFormed?: boolean }
  | { kind: "date" }
  /** Document numbers and SKUs: a letter or digit, then letters, digits, space and . _ - / # */
  | { kind: "code"; max: number }
  /** Names people read: any script, no control, format or invisible characters. */
  | { kind: "name"; max: number }
  /** Free text: only its type and length are checked. */
  | { kind: "text"; max: number }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "int"; min: number; max: number }
  /** A number in [min, max], fractions allowed. */
  | { kind: "number"; min: number; max: number }
  /** A party id. A well-formed unknown one is refused by the state; `min` 0: the schema lets "" through to that check. */
  | { kind: "partyRef"; min: 0 | 1; max: number }
  /** A certificate id: a positive decimal integer, as a string. */
  | { kind: "decimalId" }
  | { kind: "uint256" }
  | { kind: "signature" }
  /** An Ethereum address, 0x and 40 hex digits. */
  | { kind: "address" }
  | { kind: "array"; min: number; max: number }
  | { kind: "true" };

export interface Mutation {
  body: Json;
  /** The field changed, as the API names it: "body.invoice.lines.0.unitPrice". */
  path: string;
  what: string;
  /** true: the schema must refuse it (400 VALIDATION_FAILED naming this field or a parent). */
  schema: boolean;
}

export interface BodyShape {
  /** Field kinds by path pattern, array indices as "*": "invoice.lines.*.unitPrice". */
  fields: Record<string, FieldKind>;
  /** Patterns of fields that may be left out. */
  optional?: string[];
}

/* ------------------------------------------------------------------ */
/*                        Characters and values                       */
/* ------------------------------------------------------------------ */

/** Characters a document number or SKU must refuse anywhere but at the ends (trim takes whitespace there). */
export const FORBIDDEN_IN_CODES = [
  "\u0000",
  "\u0007",
  "\u0008",
  "\u001b",
  "\u007f",
  "\u0085",
  "\t",
  "\n",
  "\r",
  "\u000b",
  "\u000c",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202e",
  "\u2066",
  "\u2069",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\u00ad",
  "\u0301",
  "😀",
  "€",
  "<",
  ">",
  "'",
  '"',
  ";",
  "\\",
  "%",
  "$",
  "{",
  "}",
  "*",
  "!",
  "?",
  "@",
  "=",
  "+",
  ",",
  ":",
  "|",
  "~",
  "`",
  "\ud83d",
  "\udc00", // lone surrogates: JSON.stringify escapes them, the parser gives them back
];

/** Control, format, line-separator and bidi characters, and lone surrogates: refused inside a name. */
export const INVISIBLE_IN_NAMES = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009b",
  "\t",
  "\n",
  "\r",
  "\u00ad",
  "\u061c",
  "\u180e",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2060",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufff9",
  "\u{e0001}",
  "\ud800",
  "\udfff",
];

export const BAD_AMOUNTS = [
  "-1",
  "-0",
  "+1",
  "-100000000",
  "1.5",
  "1.0",
  "0.1",
  ".5",
  "5.",
  "1e6",
  "1E6",
  "1e-6",
  `1${"0".repeat(40)}`,
  `1${"0".repeat(30)}`,
  "007",
  "00",
  "0 ",
  " 100",
  "100 ",
  "1 000",
  "1,000",
  "1_000",
  "0x10",
  "0b1",
  "0o7",
  "",
  " ",
  "∞",
  "NaN",
  "Infinity",
  "-Infinity",
  "٣٠٠",
  "१००",
  "１００",
  "𝟏𝟎𝟎",
  "一百",
  "Ⅻ",
  "100\u0000",
  "1\u200b00",
  "²",
  "½",
  "10^40",
  "1e400",
];

export const BAD_DATES = [
  "0000-01-01",
  "0000-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "1900-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "2025-02-29T00:00:00Z",
  "2026-04-31T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "2026-00-10T00:00:00Z",
  "2026-01-00T00:00:00Z",
  "2026-01-01T24:00:00Z",
  "2026-01-01T23:60:00Z",
  "2026-01-01T00:00:60Z",
  "2026-01-01 00:00:00Z",
  "2026-01-01T00:00:00",
  "2026-01-01T00:00:00+25:00",
  "2026-01-01T00:00:00+0100x",
  "+275760-09-13T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "2026-1-1T00:00:00Z",
  "20260101T000000Z",
  "",
  " ",
  "now",
  "yesterday",
  "Thu, 01 Jan 2026 00:00:00 GMT",
  "2026-01-01T00:00:00Z\u0000",
  "٢٠٢٦-٠١-٠١T00:00:00Z",
  "1767225600",
  "1767225600000",
];

/** Well-formed but refused by the verification (in the future, or a tenor of thousands of years). */
export const FAR_FUTURE_DATES = ["9999-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "9999-12-31T23:59:59.999+14:00"];

const SEMANTIC_HUGE_AMOUNT = "9".repeat(30); // the largest well-formed amount: 10^30 - 1

/** A JSON value of a type other than `value`'s. */
function otherTypeThan(value: Json): fc.Arbitrary<Json> {
  const typeOf = (v: Json) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  const options: Array<fc.Arbitrary<Json>> = [
    fc.constantFrom<Json>(null),
    fc.boolean(),
    fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(1e40, -1e40, 0, 1, Date.now(), Date.now() / 1000),
    ),
    fc.string({ maxLength: 8 }),
    fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  ];
  return fc.oneof(...options).filter((candidate) => typeOf(candidate) !== typeOf(value));
}

/** `text` with `char` put strictly inside it (never at an end, where trim would take whitespace). */
const inside = (text: string, char: string, at: number): string => {
  const base = text.length >= 2 ? text : `${text}A`;
  const index = 1 + (at % (base.length - 1));
  return base.slice(0, index) + char + base.slice(index);
};

/** A bad value for a field of this kind whose current (valid) value is `value`. */
export function badValueFor(
  kind: FieldKind,
  value: Json,
): fc.Arbitrary<{ value: Json; what: string; schema: boolean }> {
  const schema = (arb: fc.Arbitrary<Json>, what: string) => arb.map((v) => ({ value: v, what, schema: true }));
  const refused = (arb: fc.Arbitrary<Json>, what: string) => arb.map((v) => ({ value: v, what, schema: false }));
  switch (kind.kind) {
    case "amount":
      return fc.oneof(
        schema(fc.constantFrom(...BAD_AMOUNTS, ...(kind.positive ? ["0"] : [])), "malformed amount"),
        schema(
          fc.bigInt({ min: 1n, max: 10n ** 40n }).map((n) => `-${n}`),
          "negative amount",
        ),
        schema(fc.bigInt({ min: 10n ** 30n, max: 10n ** 60n }).map(String), "amount over 30 digits"),
        schema(
          fc
            .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 1, max: 6 }))
            .map(([n, zeros]) => "0".repeat(zeros) + n),
          "leading zeros",
        ),
        schema(
          fc.tuple(fc.nat(1_000_000), fc.nat(999)).map(([a, b]) => `${a}.${b}`),
          "decimal amount",
        ),
        ...(kind.anyWellFormed ? [] : [refused(fc.constant(SEMANTIC_HUGE_AMOUNT), "the largest well-formed amount")]),
      );
    case "date":
      return fc.oneof(
        schema(fc.constantFrom(...BAD_DATES), "malformed or out-of-range date"),
        schema(
          fc
            .date({ min: new Date(-8_640_000_000_000_000), max: new Date(-1), noInvalidDate: true })
            .map((d) => d.toISOString()),
          "date before 1970",
        ),
        schema(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
          "date without a time",
        ),
        schema(fc.integer({ min: 0, max: 4_102_444_800 }), "unix timestamp as a number"),
        refused(fc.constantFrom(...FAR_FUTURE_DATES), "far-future date"),
      );
    case "code":
      return fc.oneof(
        schema(
          fc.tuple(fc.constantFrom(...FORBIDDEN_IN_CODES), fc.nat()).map(([c, at]) => inside(String(value), c, at)),
          "forbidden character inside",
        ),
        schema(
          fc.constantFrom("-", ".", "_", "/", "#").map((p) => `${p}${String(value)}`),
          "starts with punctuation",
        ),
        schema(
          fc.integer({ min: kind.max + 1, max: kind.max + 200 }).map((n) => "A".repeat(n)),
          "too long",
        ),
        schema(fc.constantFrom("", " ", "   ", "\t", "\n", "\u3000"), "empty"),
      );
    case "name":
      return fc.oneof(
        schema(
          fc.tuple(fc.constantFrom(...INVISIBLE_IN_NAMES), fc.nat()).map(([c, at]) => inside(String(value), c, at)),
          "control or invisible character inside",
        ),
        schema(
          fc.integer({ min: kind.max + 1, max: kind.max + 300 }).map((n) => "N".repeat(n)),
          "too long",
        ),
        schema(fc.constantFrom("", " ", "\t\n", "\u3000"), "empty"),
      );
    case "text":
      return fc.oneof(
        schema(
          fc.integer({ min: kind.max + 1, max: kind.max + 300 }).map((n) => "t".repeat(n)),
          "too long",
        ),
        schema(fc.constantFrom("", " ", "\n\t "), "empty"),
      );
    case "enum":
      return fc.oneof(
        schema(
          fc
            .constantFrom(
              ...kind.values.flatMap((v) => [
                v.toLowerCase(),
                v.toUpperCase(),
                v[0]!.toUpperCase() + v.slice(1),
                ` ${v}`,
                `${v} `,
                `${v}\u0000`,
                v.replace(/[aeoAEO]/, (c) => ({ a: "а", e: "е", o: "о", A: "А", E: "Е", O: "О" })[c]!),
              ]),
              "",
              "null",
            )
            .filter((v) => !kind.values.includes(v)),
          "a near miss of one of the values",
        ),
        // A random string is refused too, by the schema or (a well-formed currency code) by the verification.
        refused(
          fc.string({ maxLength: 12 }).filter((v) => !kind.values.includes(v)),
          "a random string",
        ),
      );
    case "int":
      return fc.oneof(
        schema(
          fc.constantFrom(
            kind.min - 1,
            kind.max + 1,
            -1e40,
            1e40,
            kind.min + 0.5,
            1.5,
            Number.MAX_SAFE_INTEGER + 2,
            -Number.MAX_SAFE_INTEGER - 2,
          ),
          "out of range or not whole",
        ),
        schema(fc.integer({ min: -2_000_000_000, max: kind.min - 1 }), "below the minimum"),
        schema(
          kind.max >= Number.MAX_SAFE_INTEGER
            ? fc.constant(2 ** 60)
            : fc.integer({ min: kind.max + 1, max: kind.max + 2_000_000_000 }),
          "above the maximum",
        ),
        schema(
          fc.double({ min: kind.min, max: Math.min(kind.max, 1e12), noNaN: true }).filter((d) => !Number.isInteger(d)),
          "a fraction",
        ),
        schema(fc.integer({ min: kind.min, max: Math.min(kind.max, 1e9) }).map(String), "a number as a string"),
      );
    case "number":
      return schema(
        fc.oneof(
          fc.constantFrom(kind.min - 1e-9, kind.max + 1e-9, -1e40, 1e40, Number.MAX_VALUE, -Number.MAX_VALUE),
          fc.double({ min: kind.max, noNaN: true, noDefaultInfinity: true }).filter((d) => d > kind.max),
          fc.double({ max: kind.min, noNaN: true, noDefaultInfinity: true }).filter((d) => d < kind.min),
          fc.double({ min: kind.min, max: kind.max, noNaN: true }).map(String),
        ),
        "out of range, or a string",
      );
    case "partyRef":
      return fc.oneof(
        schema(fc.constantFrom(...(kind.min > 0 ? [""] : []), "x".repeat(kind.max + 1)), "empty or too long"),
        ...(kind.min === 0 ? [refused(fc.constant(""), "an empty party id")] : []),
        refused(
          fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/).map((s) => `pty_fuzz_${s}`),
          "an unknown party",
        ),
      );
    case "decimalId":
      return fc.oneof(
        schema(
          fc.constantFrom("0", "-1", "01", "1.0", " 1", "1 ", "1e3", "١", "１", "0x1", "9".repeat(22), "", "+1", "1_0"),
          "not a positive integer",
        ),
        refused(fc.bigInt({ min: 10n ** 12n, max: 10n ** 20n }).map(String), "an unknown id"),
      );
    case "uint256":
      return fc.oneof(
        schema(
          fc.constantFrom(
            "-1",
            "1.5",
            "",
            " 1",
            "0x1",
            "1e3",
            "９",
            "9".repeat(79),
            (2n ** 256n).toString(),
            (2n ** 256n + 12345n).toString(),
          ),
          "not a uint256",
        ),
        refused(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }).map(String), "a nonce nobody signed"),
      );
    case "signature":
      return fc.oneof(
        schema(
          fc.constantFrom(
            "",
            "0x",
            "0x1",
            "0xZZ",
            "0x" + "g".repeat(130),
            "11".repeat(65),
            "0x" + "ab".repeat(10),
            "0x" + "ab".repeat(66),
            "0x" + "11".repeat(65),
            "0x" + "ab".repeat(64) + "1d",
          ),
          "malformed signature",
        ),
        schema(
          fc.uint8Array({ minLength: 1, maxLength: 63 }).map((bytes) => "0x" + Buffer.from(bytes).toString("hex")),
          "too short",
        ),
        refused(fc.constant("0x" + "00".repeat(64) + "1b"), "a signature of zeros"),
      );
    case "address":
      return schema(
        fc.oneof(
          fc.constantFrom(
            "",
            "0x",
            "0x123",
            "0x" + "g".repeat(40),
            "ab".repeat(20),
            "0x" + "a".repeat(39),
            "0x" + "a".repeat(41),
            " 0x" + "a".repeat(40),
            "0X" + "a".repeat(40),
          ),
          fc.uint8Array({ minLength: 1, maxLength: 19 }).map((bytes) => "0x" + Buffer.from(bytes).toString("hex")),
        ),
        "not an address",
      );
    case "array": {
      const element = Array.isArray(value) && value.length > 0 ? value[0]! : null;
      return fc.oneof(
        ...(kind.min > 0 ? [schema(fc.constant<Json>([]), "empty list")] : []),
        schema(
          fc.integer({ min: kind.max + 1, max: kind.max + 5 }).map((n) => Array.from({ length: n }, () => element)),
          "too many elements",
        ),
      );
    }
    case "true":
      return schema(fc.constantFrom<Json>(false, "true", 1, "yes"), "not the literal true");
  }
}

/* ------------------------------------------------------------------ */
/*                              Mutations                             */
/* ------------------------------------------------------------------ */

interface Site {
  path: Path;
  pattern: string;
  value: Json;
}

/** Every place in `body`, with its path and its pattern (indices as "*"). */
function sitesOf(body: Json, path: Path = []): Site[] {
  const here: Site = { path, pattern: path.map((p) => (typeof p === "number" ? "*" : p)).join("."), value: body };
  if (Array.isArray(body)) return [here, ...body.flatMap((v, i) => sitesOf(v, [...path, i]))];
  if (body !== null && typeof body === "object")
    return [here, ...Object.entries(body).flatMap(([k, v]) => sitesOf(v as Json, [...path, k]))];
  return [here];
}

const apiPath = (path: Path) => ["body", ...path.map(String)].join(".");

/** A deep copy of `body` with the value at `path` replaced, or removed when `value` is undefined. */
function withValue(body: Json, path: Path, value: Json | undefined): Json {
  const copy = structuredClone(body);
  if (path.length === 0) return value ?? null;
  let parent: any = copy;
  for (const step of path.slice(0, -1)) parent = parent[step];
  const last = path[path.length - 1]!;
  if (value === undefined) delete parent[last];
  // defineProperty, so that "__proto__" becomes an own key that JSON.stringify sends.
  else Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const UNKNOWN_KEYS = [
  "status",
  "id",
  "txHash",
  "holder",
  "state",
  "createdAt",
  "verification",
  "receivableId",
  "role",
  "roles",
  "__proto__",
  "constructor",
  "toString",
  "",
  " ",
  "Status",
  "debtorID",
  "amount ",
  "\u0000",
];

/** Mutations of a valid body: each is refused, by the schema or by the state. */
export function mutationOf(valid: Json, shape: BodyShape): fc.Arbitrary<Mutation> {
  const sites = sitesOf(valid);
  const optional = new Set(shape.optional ?? []);
  const objects = sites.filter((s) => s.value !== null && typeof s.value === "object" && !Array.isArray(s.value));
  const keyed = sites.filter((s) => s.path.length > 0 && typeof s.path[s.path.length - 1] === "string");
  const removable = keyed.filter((s) => !optional.has(s.pattern));
  const inner = sites.filter((s) => s.path.length > 0);
  const typed = sites.filter((s) => shape.fields[s.pattern] !== undefined);

  const arbitraries: Array<fc.Arbitrary<Mutation>> = [];
  // fc.constantFrom needs at least one value: a body of {} has no field to remove or retype.
  if (removable.length > 0) {
    arbitraries.push(
      fc.constantFrom(...removable).map((s) => ({
        body: withValue(valid, s.path, undefined),
        path: apiPath(s.path),
        what: "a required field left out",
        schema: true,
      })),
    );
  }
  arbitraries.push(
    fc
      .tuple(
        fc.constantFrom(...objects),
        fc.oneof(fc.constantFrom(...UNKNOWN_KEYS), fc.string({ minLength: 1, maxLength: 12, unit: "binary" })),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .filter(([s, key]) => !Object.prototype.hasOwnProperty.call(s.value, key))
      .map(([s, key, value]) => ({
        body: withValue(valid, [...s.path, key], value),
        path: apiPath(s.path),
        what: `an unknown field ${JSON.stringify(key)}`,
        schema: true,
      })),
  );
  if (inner.length > 0) {
    arbitraries.push(
      fc.constantFrom(...inner).chain((s) =>
        otherTypeThan(s.value).map((value) => ({
          body: withValue(valid, s.path, value),
          path: apiPath(s.path),
          what: "a value of the wrong type",
          schema: true,
        })),
      ),
    );
  }
  if (typed.length > 0) {
    arbitraries.push(
      fc.constantFrom(...typed).chain((s) =>
        badValueFor(shape.fields[s.pattern]!, s.value).map((bad) => ({
          body: withValue(valid, s.path, bad.value),
          path: apiPath(s.path),
          what: bad.what,
          schema: bad.schema,
        })),
      ),
    );
  }
  // The field-kind mutations are the point: weigh them as much as the three generic ones together.
  return fc.oneof(
    ...arbitraries.map((arbitrary, i) => ({
      arbitrary,
      weight: i === arbitraries.length - 1 && typed.length > 0 ? arbitraries.length - 1 : 1,
    })),
  );
}

/** Random JSON bodies: any value at the top, and objects with random (unicode) keys. */
export const randomJson = (): fc.Arbitrary<Json> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 3, stringUnit: "binary" }),
    fc.dictionary(fc.string({ maxLength: 10, unit: "binary" }), fc.jsonValue({ maxDepth: 2, stringUnit: "binary" }), {
      maxKeys: 6,
    }),
  );

/* ------------------------------------------------------------------ */
/*                           Raw bodies                               */
/* ------------------------------------------------------------------ */

export interface RawBody {
  what: string;
  body: string | Buffer;
  headers: Record<string, string>;
  /** The code the API must answer with. */
  code: string;
  status: number;
}

const JSON_TYPE = { "content-type": "application/json" };

/** 10,000 levels of nesting: arrays, objects, or under a real field. */
export function deeplyNested(levels: number, style: "array" | "object" | "field", field = "parts"): string {
  if (style === "array") return "[".repeat(levels) + "]".repeat(levels);
  if (style === "object") return '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
  return `{"${field}":` + "[".repeat(levels) + "]".repeat(levels) + "}";
}

/** Bodies no JSON endpoint may take, built around a JSON text `json` the endpoint would parse. */
export function rawMalformed(json: string): fc.Arbitrary<RawBody> {
  const malformed = (what: string, body: string): RawBody => ({
    what,
    body,
    headers: JSON_TYPE,
    code: "MALFORMED_JSON",
    status: 400,
  });
  return fc.oneof(
    fc
      .integer({ min: 1, max: Math.max(1, json.length - 1) })
      .map((cut) => malformed(`truncated at ${cut}`, json.slice(0, cut))),
    fc
      .constantFrom("}", "]", ",", "x", "{}", "\u0000", "//", "/* */", "NaN", '"', "'")
      .map((tail) => malformed(`${JSON.stringify(tail)} after the JSON`, json + tail)),
    fc
      .constantFrom(
        "{'debtorId': 'x'}",
        '{"a":1,}',
        "[1,2,]",
        "{a:1}",
        '{"a":NaN}',
        '{"a":Infinity}',
        '{"a":-Infinity}',
        '{"a":0x10}',
        '{"a":0100}',
        '{"a":.5}',
        '{"a":+1}',
        '{"a":1 // c\n}',
        '{"a":"\u0000"}',
        '{"a":"\\x41"}',
        '{"a":"\\u12"}',
        '{"a":undefined}',
        "{,}",
        '{"a" 1}',
        '{"a":1 "b":2}',
        "nul",
        "tru",
        "[",
      )
      // Not "", nor a lone BOM (decoded, it is ""): the parser reads an empty body as none, which a bodiless route may take.
      .map((text) => malformed(`not JSON: ${JSON.stringify(text)}`, text)),
    fc
      .constantFrom('"a string"', "123", "true", "null", "-0", "1e400")
      .map((scalar) => malformed(`a bare ${scalar}`, scalar)),
    fc
      .constantFrom(
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "text/html",
        "application/octet-stream",
        "application/jsonx",
        "json",
        "application/javascript",
      )
      .map((type): RawBody => ({
        what: `content-type ${type}`,
        body: json,
        headers: { "content-type": type },
        code: "UNSUPPORTED_MEDIA_TYPE",
        status: 415,
      })),
    fc.constant<RawBody>({
      what: "no content-type",
      body: json,
      headers: {},
      code: "UNSUPPORTED_MEDIA_TYPE",
      status: 415,
    }),
    fc.constantFrom("latin1", "iso-8859-1", "klingon", "ascii", "windows-1252").map((charset): RawBody => ({
      what: `charset ${charset}`,
      body: json,
      headers: { "content-type": `application/json; charset=${charset}` },
      code: "UNSUPPORTED_ENCODING",
      status: 415,
    })),
    fc.constantFrom("br2", "x-unknown", "zstd1", "lzma").map((encoding): RawBody => ({
      what: `content-encoding ${encoding}`,
      body: json,
      headers: { ...JSON_TYPE, "content-encoding": encoding },
      code: "UNSUPPORTED_ENCODING",
      status: 415,
    })),
    fc.constantFrom("gzip", "deflate", "br").map((encoding): RawBody => ({
      what: `${encoding} that is not`,
      body: json,
      headers: { ...JSON_TYPE, "content-encoding": encoding },
      code: "BAD_REQUEST",
      status: 400,
    })),
    fc.constantFrom<"array" | "object" | "field">("array", "object", "field").map((style): RawBody => ({
      what: `10,000 levels of ${style} nesting`,
      body: deeplyNested(10_000, style),
      headers: JSON_TYPE,
      code: "BODY_TOO_DEEP",
      status: 400,
    })),
  );
}
