#!/usr/bin/env node
// Offline build: make Evidence 40.1.8 work with @duckdb/duckdb-wasm 1.28.0 (DuckDB 0.9.1).
//
// Why: every DuckDB-Wasm from 1.29 on downloads the parquet extension from the internet at run
// time, and Evidence reads and writes parquet at every step, so `evidence sources`/`build` (and
// the browser) hang without internet. 1.28.0 is the last release with parquet built in; package.json
// pins it with an npm `overrides` entry (see ../../shared/STACK.md, "Evidence").
//
// DuckDB 0.9 does not know two settings Evidence sets when it opens its client
// (`ieee_floating_point_ops`, `old_implicit_casting`); their 0.9 defaults already equal what
// Evidence asks for. This patch lets exactly those two statements fail quietly.
//
// Guarded and idempotent: it refuses (exit 1) if duckdb-wasm is not 1.28.0 or if the lines it
// expects have changed, so an upgrade fails loudly instead of silently hanging.
// Runs from the package's postinstall, presources, prebuild and predev scripts.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXPECTED_WASM = '1.28.0';
const MARKER = '/* icb-insight: DuckDB 0.9 lacks this setting; its default already matches */';
const SETTINGS = ['ieee_floating_point_ops = false', 'old_implicit_casting = true'];
const FILES = [
	'@evidence-dev/universal-sql/src/client-duckdb/node.js',
	'@evidence-dev/universal-sql/src/client-duckdb/browser.js'
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');

function fail(message) {
	console.error(`patch-duckdb-wasm: ${message}`);
	process.exit(1);
}

// Every copy of duckdb-wasm in the tree must be the pinned one (hoisted or nested).
function wasmVersions(dir, found = []) {
	if (!existsSync(dir)) return found;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		if (!entry.isDirectory()) continue;
		const path = join(dir, entry.name);
		if (entry.name === 'duckdb-wasm' && dir.endsWith('@duckdb')) {
			const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
			found.push({ path, version: pkg.version });
		} else if (entry.name.startsWith('@') || entry.name === 'node_modules') {
			wasmVersions(path, found);
		} else if (existsSync(join(path, 'node_modules'))) {
			wasmVersions(join(path, 'node_modules'), found);
		}
	}
	return found;
}

if (!existsSync(modules)) fail(`no node_modules in ${root}; run npm install first`);
const copies = wasmVersions(modules);
if (copies.length === 0) fail('@duckdb/duckdb-wasm is not installed');
const wrong = copies.filter((copy) => copy.version !== EXPECTED_WASM);
if (wrong.length > 0) {
	fail(
		`expected @duckdb/duckdb-wasm ${EXPECTED_WASM} everywhere, found ` +
			wrong.map((copy) => `${copy.version} at ${copy.path}`).join(', ') +
			'. Check the "overrides" in package.json; newer versions fetch parquet from the internet.'
	);
}

let changed = 0;
for (const file of FILES) {
	const path = join(modules, file);
	if (!existsSync(path)) fail(`${file} not found: has @evidence-dev/universal-sql changed?`);
	let text = readFileSync(path, 'utf8');
	for (const setting of SETTINGS) {
		const original = `await connection.query('SET ${setting};');`;
		const patched = `try { ${original} } catch (e) { ${MARKER} }`;
		const originals = text.split(original).length - 1;
		const patches = text.split(patched).length - 1;
		if (patches === 1 && originals === 1) continue; // already patched (original sits inside)
		if (patches === 0 && originals === 1) {
			text = text.replace(original, patched);
			changed += 1;
			continue;
		}
		fail(`${file}: expected exactly one "${original}" (found ${originals}, patched ${patches})`);
	}
	writeFileSync(path, text);
}
console.log(
	`patch-duckdb-wasm: duckdb-wasm ${EXPECTED_WASM} ok; ` +
		(changed ? `patched ${changed} statement(s)` : 'already patched')
);
