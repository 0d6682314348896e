"""The demo data generator's parts: a fictional ICB, its people, its community offer.

``ingest.generate`` is the public entry point; the modules here build one layer each:

- ``common``: seeded random streams, tokens, dates, categorical draws, national ranks.
- ``names``: invented place names and the short texts (activity names, referral reasons).
- ``places``: geography, population, deprivation, GP practices and PCNs.
- ``community``: providers, activities, sessions held and their funding.
- ``people``: referrals, onward referrals, attendance and link worker capacity.
- ``write``: CSV, XLSX and 360Giving JSON writers that give byte-identical files.
"""
