// Mutation testing (StrykerJS 9, the last major on Node 20): `npm run mutate` (see test/mutate/run.ts,
// which picks the files and prints a score per module). Not part of .ci/run: a full run takes long.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants) need the whole suite per mutant; they are reported, not run.
  ignoreStatic: true,
  // vitest does not type-check, and the README test compares example files verbatim.
  disableTypeChecks: false,
  concurrency: 2,
  timeoutMS: 20_000,
  // The first run is the whole suite with per-test coverage: minutes on 2 cores, more under load.
  dryRunTimeoutMinutes: 30,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  incrementalFile: 'reports/stryker-incremental.json',
  cleanTempDir: 'always',
  // What the sandbox needs besides the mutated sources: the tests, fixtures and configs they read.
  ignorePatterns: ['dist', 'reports', '.fmesh', 'coverage', 'test/bench'],
}
