#!/usr/bin/env node
// Run the Evidence CLI with the warehouse file chosen by ICB_INSIGHT_REPORT_DB.
//
// Evidence reads a source option from EVIDENCE_SOURCE__<source>__<option> (it overrides
// connection.yaml), but @evidence-dev/duckdb joins `filename` to the source folder even when it
// is absolute. So an absolute ICB_INSIGHT_REPORT_DB is turned into a path relative to
// sources/warehouse/ here. Without ICB_INSIGHT_REPORT_DB, connection.yaml's default applies
// (../data/warehouse/report.duckdb, relative to reports/).
//
// usage: node scripts/evidence.mjs <evidence arguments...>   e.g. `sources`, `build:strict`
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'sources', 'warehouse');
const env = { ...process.env, DO_NOT_TRACK: '1' };

const chosen = process.env.ICB_INSIGHT_REPORT_DB;
let database;
if (chosen) {
	if (!isAbsolute(chosen)) {
		console.error(`ICB_INSIGHT_REPORT_DB must be an absolute path, got "${chosen}"`);
		process.exit(2);
	}
	database = chosen;
	// The report reads report.duckdb (every figure through disclosure control), written beside
	// the published warehouse by orchestration/report_data.py; never the published file itself.
	if (basename(chosen) === 'published.duckdb') {
		database = join(dirname(chosen), 'report.duckdb');
		console.log(`Reading ${database}, the report's copy of ${chosen}`);
	}
	env.EVIDENCE_SOURCE__warehouse__filename = relative(sourceDir, database);
} else {
	const yaml = readFileSync(join(sourceDir, 'connection.yaml'), 'utf8');
	const match = /^\s*filename:\s*(\S+)\s*$/m.exec(yaml);
	database = match ? resolve(sourceDir, match[1]) : undefined;
}

const args = process.argv.slice(2);
if (args[0] === 'sources' && database && !existsSync(database)) {
	console.error(
		`No report data at ${database}.\n` +
			'Build it first (make demo, or python -m orchestration.reporting.site --data-only), ' +
			'or set ICB_INSIGHT_REPORT_DB to an absolute report.duckdb path.'
	);
	process.exit(2);
}
if (args[0] === 'sources') console.log(`Reading the warehouse ${database}`);

const cli = join(root, 'node_modules', '@evidence-dev', 'evidence', 'cli.js');
const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, env, stdio: 'inherit' });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
