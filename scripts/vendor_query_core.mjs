// `make vendor`: copy @tanstack/query-core's ES module build from node_modules
// into static/vendor/, where the pages import it without a build step or a CDN.
//
// The copy is byte for byte (with the source maps, which collectstatic's
// manifest storage follows from each file), beside the package's LICENSE and a
// VENDORED.json naming the version and integrity package-lock.json pins and the
// sha256 of every file; tests/js/vendored.test.mjs fails when they disagree.

import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PACKAGE = "@tanstack/query-core";
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const TARGET = join(ROOT, "static", "vendor", "tanstack-query-core");
export const MANIFEST = "VENDORED.json";
// The browser build: ES modules, modern syntax (what package.json's "import" names).
const BUILD = join("build", "modern");

/** {version, integrity} of the package as package-lock.json pins it. */
export function locked(root = ROOT) {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const entry = lock.packages[`node_modules/${PACKAGE}`];
  return { version: entry.version, integrity: entry.integrity };
}

/** The installed package's directory and version. */
export function installed(root = ROOT) {
  const directory = join(root, "node_modules", ...PACKAGE.split("/"));
  const { version } = JSON.parse(readFileSync(join(directory, "package.json"), "utf8"));
  return { directory, version };
}

/** Where each vendored file comes from in the package: name -> path. */
export function sources(directory) {
  const build = join(directory, BUILD);
  const files = new Map([["LICENSE", join(directory, "LICENSE")]]);
  for (const name of readdirSync(build).sort()) {
    if (name.endsWith(".js") || name.endsWith(".js.map")) files.set(name, join(build, name));
  }
  return files;
}

export function sha256(path) {
  return `sha256-${createHash("sha256").update(readFileSync(path)).digest("base64")}`;
}

export function vendor(root = ROOT) {
  const pin = locked(root);
  const { directory, version } = installed(root);
  if (version !== pin.version) {
    throw new Error(`node_modules has ${PACKAGE} ${version}, the lock ${pin.version}: run npm ci`);
  }
  rmSync(TARGET, { recursive: true, force: true });
  mkdirSync(TARGET, { recursive: true });
  const files = {};
  for (const [name, source] of sources(directory)) {
    copyFileSync(source, join(TARGET, name));
    files[name] = sha256(source);
  }
  const manifest = { package: PACKAGE, ...pin, from: BUILD, files };
  writeFileSync(join(TARGET, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { version, files } = vendor();
  console.log(`${PACKAGE} ${version}: ${Object.keys(files).length} files in ${TARGET}`);
}
