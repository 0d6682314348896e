"""IoD area summaries (average rank, average score, proportion of LSOAs in the most deprived
10%, extent, local concentration, each ranked) of every local authority district in the
deprivation source and of the build's ICB and sub-ICB locations.

A Python model so that the formulas exist once: ingest.reference.summaries computes them
here and for `icb-insight reference la-summaries`, which must match the published File 10
from the reference files alone (no warehouse). marts.fct_area_deprivation types the columns
under an enforced contract (dbt enforces contracts on SQL models only).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from ingest.reference.summaries import warehouse_summaries

    deprivation = dbt.ref("stg_reference__deprivation").pl()
    geography = (
        dbt.ref("stg_reference__geography")
        .pl()
        .select("lsoa_code", "sub_icb_code", "sub_icb_name", "icb_code", "icb_name")
        .join(
            dbt.ref("stg_reference__population").pl().select("lsoa_code", "population_total"),
            on="lsoa_code",
            how="left",
        )
    )
    return warehouse_summaries(deprivation, geography)
