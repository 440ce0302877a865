// The vendored @tanstack/query-core in static/vendor/ is the one package-lock.json
// pins, unchanged: refresh it with `make vendor` after changing the lock.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import {
  MANIFEST,
  TARGET,
  installed,
  locked,
  sha256,
  sources,
} from "../../scripts/vendor_query_core.mjs";

const manifest = JSON.parse(readFileSync(join(TARGET, MANIFEST), "utf8"));

describe("vendored @tanstack/query-core", () => {
  test("is the version and tarball the lock pins", () => {
    const pin = locked();
    assert.equal(manifest.version, pin.version, "the lock moved: run `make vendor`");
    assert.equal(manifest.integrity, pin.integrity, "the lock moved: run `make vendor`");
  });

  test("holds exactly the files its manifest lists, unchanged", () => {
    const present = readdirSync(TARGET).filter((name) => name !== MANIFEST).sort();
    assert.deepEqual(present, Object.keys(manifest.files).sort());
    for (const [name, digest] of Object.entries(manifest.files)) {
      assert.equal(sha256(join(TARGET, name)), digest, `${name} was edited`);
    }
  });

  test("is byte for byte the installed package's ES module build and license", () => {
    const { directory, version } = installed();
    assert.equal(version, locked().version, "node_modules is not the lock's: run `npm ci`");
    const files = sources(directory);
    assert.deepEqual([...files.keys()].sort(), Object.keys(manifest.files).sort());
    for (const [name, source] of files) {
      assert.equal(sha256(source), manifest.files[name], `${name} differs from the package`);
    }
  });

  test("loads as ES modules and runs a query", async () => {
    const { QueryClient } = await import(join(TARGET, "index.js"));
    const queryClient = new QueryClient();
    const data = await queryClient.fetchQuery({ queryKey: ["x"], queryFn: async () => [1] });
    assert.deepEqual(data, [1]);
    queryClient.clear();
  });
});
