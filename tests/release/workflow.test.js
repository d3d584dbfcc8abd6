// Structural checks of .github/workflows/release.yml that actionlint does
// not make, each a way the Windows and macOS jobs failed or shipped weaker
// installers. The workflow is read by indentation: jobs at two spaces, their
// steps as "- " items at six.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const text = fs.readFileSync(path.join(__dirname, "../../.github/workflows/release.yml"), "utf8");

/** The jobs: name -> { header: lines before `steps:`, steps: [lines] }. */
function jobs() {
  const lines = text.split("\n");
  const start = lines.indexOf("jobs:");
  const result = {};
  let job = null;
  let step = null;
  for (const line of lines.slice(start + 1)) {
    const jobName = /^  ([a-z][a-z0-9_-]*):\s*$/.exec(line);
    if (jobName) {
      job = { header: [], steps: [] };
      result[jobName[1]] = job;
      step = null;
      continue;
    }
    if (!job) continue;
    if (/^      - /.test(line)) {
      step = [line];
      job.steps.push(step);
    } else if (step && (/^        /.test(line) || line.trim() === "" || /^\s*#/.test(line))) {
      step.push(line);
    } else {
      step = null;
      job.header.push(line);
    }
  }
  return result;
}

const named = (step) => (/name: (.*)$/.exec(step.join("\n")) || [])[1] || "";
const stepIndex = (job, pattern) => job.steps.findIndex((s) => pattern.test(s.join("\n")));

test("one job creates the release; the build jobs never do", () => {
  const all = jobs();
  assert.ok(all.release, "a release job");
  const creators = Object.entries(all).filter(([, job]) =>
    job.steps.some((s) => /gh release create/.test(s.join("\n"))));
  assert.deepStrictEqual(creators.map(([name]) => name), ["release"]);
  const bundle = all.bundle;
  assert.ok(bundle.header.some((l) => /needs: release/.test(l)), "bundle waits for it");
  const action = bundle.steps.find((s) => /tauri-apps\/tauri-action/.test(s.join("\n")));
  assert.ok(action, "tauri-action builds");
  assert.doesNotMatch(action.join("\n"), /tagName|releaseId|releaseName/, "and only builds");
});

test("the checks run before anything is uploaded", () => {
  const bundle = jobs().bundle;
  const upload = stepIndex(bundle, /gh release upload/);
  assert.ok(upload > 0, "an upload step");
  for (const check of [/check-release-config\.sh/, /Check scheme registration \(deb\)/, /Info\.plist/, /Windows installers/]) {
    const at = stepIndex(bundle, check);
    assert.ok(at >= 0, `a step matching ${check}`);
    assert.ok(at < upload, `${named(bundle.steps[at])} runs before the upload`);
  }
});

test("Windows signing reads a job-level value", () => {
  const bundle = jobs().bundle;
  assert.ok(
    bundle.header.some((l) => /^      WINDOWS_SIGN_COMMAND: \$\{\{ secrets\.WINDOWS_SIGN_COMMAND \}\}/.test(l)),
    "WINDOWS_SIGN_COMMAND is in the job's env",
  );
  const signing = bundle.steps.find((s) => /if:.*env\.WINDOWS_SIGN_COMMAND/.test(s.join("\n")));
  assert.ok(signing, "the signing step's if: reads it");
  assert.doesNotMatch(signing.join("\n"), /WINDOWS_SIGN_COMMAND: \$\{\{/, "not from its own env");
});

test("Apple variables reach the bundler only when set", () => {
  const bundle = jobs().bundle;
  for (const step of bundle.steps) {
    const body = step.join("\n");
    if (/tauri-apps\/tauri-action/.test(body)) {
      assert.doesNotMatch(body, /APPLE_/, "the build step defines no APPLE_* (empty ones break it)");
    }
  }
  const configure = bundle.steps.find((s) => /Configure macOS signing/.test(s.join("\n")));
  assert.ok(configure, "a step exports them");
  const body = configure.join("\n");
  assert.match(body, /if \[ -n "\$value" \]/, "only when non-empty");
  assert.match(body, /APPLE_SIGNING_IDENTITY=-/, "else ad hoc");
  assert.match(body, /GITHUB_STEP_SUMMARY/, "and the summary says so");
});

test("the Windows check reads the URL protocol's registry keys of installed installers", () => {
  const bundle = jobs().bundle;
  const step = bundle.steps.find((s) => /Windows installers/.test(s.join("\n")));
  assert.ok(step, "a Windows scheme check");
  const body = step.join("\n");
  assert.doesNotMatch(body, /grep/, "grepping installer sources always finds the identifier");
  assert.match(body, /check-windows-scheme\.ps1 -Scheme dev\.kakaodesk\.desktop -Nsis .+ -Msi /);
  const script = fs.readFileSync(path.join(__dirname, "../../scripts/check-windows-scheme.ps1"), "utf8");
  for (const [what, pattern] of [
    ["the protocol key", /Software\\Classes\\\$Scheme/],
    ["its URL Protocol value", /'URL Protocol'/],
    ["the open command key", /\\shell\\open\\command/],
    ["the command's form", /" "%1"\$'/],
    ["the per-user NSIS install (HKCU)", /Assert-Registered 'HKCU' 'NSIS'/],
    ["the MSI install (HKLM)", /Assert-Registered 'HKLM' 'MSI'/],
    ["removal on uninstall", /Assert-Unregistered 'HKLM' 'MSI'/],
    ["stop on the first error", /\$ErrorActionPreference = 'Stop'/],
  ]) {
    assert.match(script, pattern, `the script checks ${what}`);
  }
  const tauri = JSON.parse(fs.readFileSync(path.join(__dirname, "../../tauri.conf.json"), "utf8"));
  assert.strictEqual(tauri.bundle.windows.nsis.installMode, "currentUser", "NSIS writes HKCU only per user");
  assert.deepStrictEqual(tauri.plugins["deep-link"].desktop.schemes, ["dev.kakaodesk.desktop"], "the scheme checked");
});
