// Run Lightning Flow Scanner (core 5.9.7) over the flow files given as arguments; print JSON results.
const path = require("path");
const core = require(path.resolve(__dirname, "../../tools/node_modules/lightning-flow-scanner-core"));

(async () => {
  const parsed = await core.parse(process.argv.slice(2));
  const results = core.scan(parsed);
  const out = results.map((r) => ({
    flow: r.flow.name,
    rules: r.ruleResults
      .filter((rr) => rr.occurs)
      .map((rr) => ({
        rule: rr.ruleName,
        severity: rr.severity,
        details: (rr.details || []).map((d) => d.name),
      })),
  }));
  process.stdout.write(JSON.stringify(out, null, 1));
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
