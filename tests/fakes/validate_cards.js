// Checks Adaptive Cards with Microsoft's own parser (npm package adaptivecards), the one Teams' clients use.
// Reads one JSON card per line on stdin; writes one JSON line per card: the parser's complaints (unknown
// element or action types, invalid property values, properties newer than the card's version, duplicate ids).
// Run by tests/fakes/card_schema.py, which starts it once per test session.
const path = require("path");
const readline = require("readline");
const AC = require(path.resolve(process.argv[2], "adaptivecards", "dist", "adaptivecards.js"));

const TEAMS = new AC.HostConfig({ actions: { maxActions: 6 } });

function check(json) {
  const errors = [];
  const card = new AC.AdaptiveCard();
  card.hostConfig = TEAMS; // Teams shows six actions in a set (the library's default host shows five)
  const context = new AC.SerializationContext();
  context.targetVersion = AC.Versions.v1_5;
  card.parse(json, context);
  for (let i = 0; i < context.eventCount; i++) {
    errors.push(context.getEventAt(i).message);
  }
  const results = card.validateProperties();
  for (const event of results.validationEvents) {
    errors.push(event.message);
  }
  return errors;
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let errors;
  try {
    errors = check(JSON.parse(line));
  } catch (e) {
    errors = ["not parsed: " + e.message];
  }
  process.stdout.write(JSON.stringify(errors) + "\n");
});
