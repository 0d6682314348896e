"""The government's published reference files (deprivation, geography, population, GP
practices) read in their published layouts and turned into the input contracts; see
docs/reference-data.md."""
