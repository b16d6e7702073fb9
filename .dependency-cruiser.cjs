// The layering `pnpm lint` enforces (README → Layout). Each rule says why it
// exists; a new cycle or a forbidden import fails CI.
// scripts/depcruise.test.ts plants a cycle and each forbidden import in a
// scratch tree and checks that every rule here fires.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules that import each other cannot be understood, tested or moved one at a time.",
      from: {},
      to: { circular: true },
    },
    {
      name: "api-core-imports-no-transport",
      severity: "error",
      comment:
        "Domain, dispatch and auth rules are plain functions over a db handle: they never import the HTTP, tRPC or REST layers, nor the procedures that sit on them.",
      from: { path: "^apps/api/src/(domain|dispatch|auth|lib)/" },
      to: { path: "^apps/api/src/(trpc|rest|http|procedures)/|^apps/api/src/(server|main)\\.ts$" },
    },
    {
      name: "api-procedures-import-no-http",
      severity: "error",
      comment: "Procedures are transport-neutral: tRPC and REST both call them; they never reach into the HTTP server or the REST adapter.",
      from: { path: "^apps/api/src/procedures/" },
      to: { path: "^apps/api/src/(rest|http)/|^apps/api/src/(server|main)\\.ts$" },
    },
    {
      name: "clients-import-no-server",
      severity: "error",
      comment: "The launcher, the web app, the bench and the scripts talk to the API through the contract's types only, never its code or its database.",
      from: { path: "^(apps/(launcher|web)|bench|scripts)/" },
      to: { path: "^apps/api/|^packages/db/" },
    },
    {
      name: "contract-imports-no-implementation",
      severity: "error",
      comment: "The contract is shared by every process: it imports no database, no app and no test code.",
      from: { path: "^packages/contract/" },
      to: { path: "^(apps|packages/db|tests|bench)/" },
    },
    {
      name: "db-imports-no-app",
      severity: "error",
      comment: "The database package sits at the bottom: only the contract's constants are above it.",
      from: { path: "^packages/db/" },
      to: { path: "^(apps|tests|bench)/" },
    },
    {
      name: "product-imports-no-tests",
      severity: "error",
      comment: "Shipped code and the benchmark never depend on test support code.",
      from: { path: "^(apps/[^/]+/src|packages/[^/]+/src|bench/src|scripts/lib)/", pathNot: "(^|/)test/|\\.test\\.tsx?$" },
      to: { path: "(^|/)tests?/|\\.test\\.tsx?$" },
    },
    {
      name: "apps-import-no-other-app",
      severity: "error",
      comment: "Apps share code through packages/*, never by importing each other.",
      from: { path: "^apps/([^/]+)/" },
      to: { path: "^apps/", pathNot: "^apps/$1/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|migrations|test-results)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".d.ts"],
    },
    moduleSystems: ["es6", "cjs"],
  },
};
