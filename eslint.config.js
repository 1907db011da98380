// Lint rules for the TypeScript service, scripts and tests. Type-aware rules catch the
// mistakes that cost money in a service like this: a promise nobody awaits, a misused
// async callback.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "types/",
      "typechain-types/",
      "coverage/",
      "dist/",
      ".tierline/",
      ".ci/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "off",
      // Prettier breaks long member chains before a computed access (`.connect(x)\n["f(…)"]`); safe.
      "no-unexpected-multiline": "off",
    },
  },
  {
    // Tests and CLIs read JSON answers of the API whose shape they assert or print.
    files: ["test/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      // chai's property assertions (`expect(x).to.be.empty`) are expressions.
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  {
    // Kysely's documented pattern: migrations see the database untyped, as it was then.
    files: ["server/store/migrations.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
