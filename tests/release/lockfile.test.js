// The release workflow installs the Tauri CLI from package-lock.json on
// Linux, Windows and macOS runners. npm installs a platform's prebuilt CLI
// only when the lockfile records it, so every platform a runner uses must be
// there, pinned to the CLI's own version and with an integrity hash.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const lock = JSON.parse(fs.readFileSync(path.join(__dirname, "../../package-lock.json"), "utf8"));

test("every runner platform's Tauri CLI package is locked", () => {
  const cli = lock.packages["node_modules/@tauri-apps/cli"];
  assert.ok(cli, "the CLI itself is locked");
  assert.match(cli.version, /^2\./, "Tauri CLI 2.x, never a 3.0 alpha");
  // ubuntu-22.04, windows-latest, macos-latest (arm64, and x64 for the
  // universal build's other half).
  for (const platform of ["linux-x64-gnu", "win32-x64-msvc", "darwin-arm64", "darwin-x64"]) {
    const name = `@tauri-apps/cli-${platform}`;
    assert.ok(name in cli.optionalDependencies, `${name} is an optional dependency of the CLI`);
    const entry = lock.packages[`node_modules/${name}`];
    assert.ok(entry, `${name} is missing from package-lock.json: regenerate it with npm install --package-lock-only`);
    assert.strictEqual(entry.version, cli.version, `${name} has the CLI's version`);
    assert.match(entry.integrity || "", /^sha512-/, `${name} has an integrity hash`);
  }
});
