"""Input contracts: the single written definition of every source icb-insight accepts.

Everything else is generated from these objects: the reader's column mapping and type casts,
the row checks (and the Great Expectations suites built from them), the dbt ``sources`` file,
the demo generator's output and the human-readable page ``docs/contracts.md``.
"""

from ingest.contracts.model import Column, Contract, ForeignKey
from ingest.contracts.sources import CONTRACTS, get_contract

__all__ = ["CONTRACTS", "Column", "Contract", "ForeignKey", "get_contract"]
