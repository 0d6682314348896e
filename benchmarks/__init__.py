"""Performance measurements of the pipeline against what an analyst would otherwise write
(pandas, bare DuckDB). Run from the repository root:
``uv run python -m benchmarks.run --scales icb``. Not part of the installed packages; see
docs/benchmarks.md."""
