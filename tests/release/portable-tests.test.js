// `cargo test` and `cargo clippy --all-targets` must compile on the Windows
// and macOS runners too. A Rust test that uses a Unix-only API
// (`std::os::unix`, `libc::`) must say where it runs: its test binary's root
// or its own file carries `#![cfg(target_os = "linux")]` / `#![cfg(unix)]`,
// or the item that uses the API is behind `#[cfg(unix)]` (or linux) within
// the few lines above it.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "../..");
const UNIX_ONLY = /\bstd::os::unix\b|\blibc::/;
const GATE = /#!?\[cfg\((all\()?[^\]]*(target_os = "linux"|unix)/;

function rustFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return rustFiles(full);
    return entry.name.endsWith(".rs") ? [full] : [];
  });
}

// Each test binary: tests/<name>.rs or tests/<name>/main.rs with its modules.
function testBinaries() {
  const dirs = [path.join(root, "tests")];
  for (const crate of fs.readdirSync(path.join(root, "crates"))) {
    dirs.push(path.join(root, "crates", crate, "tests"));
  }
  return dirs.flatMap((dir) => {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isFile() && entry.name.endsWith(".rs")) return [{ root: full, files: [full] }];
      const main = path.join(full, "main.rs");
      if (entry.isDirectory() && fs.existsSync(main)) return [{ root: main, files: rustFiles(full) }];
      return [];
    });
  });
}

function innerGate(text) {
  return text.split("\n").some((line) => line.startsWith("#![cfg(") && GATE.test(line));
}

test("every Unix-only API in a Rust test is gated to the platforms it runs on", () => {
  const binaries = testBinaries();
  assert.ok(binaries.length >= 4, `the test binaries were found: ${binaries.map((b) => b.root)}`);
  const ungated = [];
  for (const binary of binaries) {
    if (innerGate(fs.readFileSync(binary.root, "utf8"))) continue;
    for (const file of binary.files) {
      const text = fs.readFileSync(file, "utf8");
      if (innerGate(text)) continue;
      const lines = text.split("\n");
      lines.forEach((line, i) => {
        if (!UNIX_ONLY.test(line) || line.trim().startsWith("//")) return;
        const above = lines.slice(Math.max(0, i - 4), i).join("\n");
        if (!GATE.test(above)) ungated.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepStrictEqual(ungated, [], "gate these with #[cfg(unix)] or the binary with #![cfg(target_os = \"linux\")]");
});
