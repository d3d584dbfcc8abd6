// A debug binary answers only to the debug scheme (`<identifier>.debug`, set
// by src-tauri/build.rs), but the bundler reads tauri.conf.json, which names
// the release scheme. `npm run build:debug` passes tauri.debug.conf.json so a
// debug bundle registers the scheme its binary accepts (and installs beside
// a release one instead of over it).
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "../..");
const read = (name) => JSON.parse(fs.readFileSync(path.join(root, name), "utf8"));

test("debug bundles register the debug binary's scheme", () => {
  const release = read("tauri.conf.json");
  const debug = read("tauri.debug.conf.json");
  const suffix = /const DEBUG_SUFFIX: &str = "([^"]+)";/.exec(
    fs.readFileSync(path.join(root, "src-tauri/build.rs"), "utf8"),
  );
  assert.ok(suffix, "build.rs names its debug suffix");
  const id = release.identifier + suffix[1];
  assert.strictEqual(debug.identifier, id, "the debug identifier, as build.rs makes it");
  assert.deepStrictEqual(debug.plugins["deep-link"].desktop.schemes, [id], "the debug scheme, as build.rs makes it");
  assert.notStrictEqual(debug.productName, release.productName, "installs beside the release app, not over it");
  const scripts = read("package.json").scripts;
  assert.match(scripts["build:debug"], /tauri build --debug --config tauri\.debug\.conf\.json/);
});
