// The layer rule (docs/architecture.md): every import points down the stack, never up.
//
//   scripts ─▶ boot, seed ─▶ api ─▶ keeper ─▶ domain ─▶ risk ─▶ context ─▶ verification ─▶ chain ─▶ store ─▶ config, logging, faults ─▶ model
//
// A module may import its own layer or any layer to its right; `api` also never reaches the
// chain directly (it asks a use case). Type-only imports count: a type is a dependency too.
const layers = [
  { name: "model", path: "^server/model/" },
  { name: "foundation", path: "^server/(config|logging|faults|telemetry)\\.ts$" },
  { name: "store", path: "^server/store/" },
  { name: "chain", path: "^server/chain/" },
  { name: "verification", path: "^server/verification/" },
  { name: "context", path: "^server/context\\.ts$" },
  { name: "risk", path: "^server/risk/" },
  { name: "domain", path: "^server/domain/" },
  { name: "keeper", path: "^server/keeper/" },
  { name: "api", path: "^server/api/" },
  { name: "boot", path: "^server/(boot|seed)\\.ts$" },
  { name: "scripts", path: "^scripts/" },
];

const upward = layers.flatMap((layer, rank) => {
  const higher = layers.slice(rank + 1).map((l) => l.path);
  if (higher.length === 0) return [];
  return [
    {
      name: `${layer.name}-imports-upward`,
      comment: `${layer.name} may import only its own layer and the layers below it (docs/architecture.md)`,
      severity: "error",
      from: { path: layer.path },
      to: { path: higher.join("|") },
    },
  ];
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "api-reaches-the-chain",
      comment: "routes call use cases (server/domain, server/risk); they never talk to the chain themselves",
      severity: "error",
      from: { path: "^server/api/" },
      to: { path: "^server/chain/" },
    },
    {
      name: "product-code-imports-tests",
      severity: "error",
      from: { path: "^(server|scripts)/" },
      to: { path: "^test/" },
    },
    {
      name: "no-circular",
      comment: "a cycle makes two modules one; split what they share into a lower layer",
      severity: "error",
      from: { path: "^server/" },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(types|artifacts|cache|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
