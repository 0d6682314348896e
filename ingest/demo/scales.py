"""The sizes the demo comes in."""

from ingest.demo.common import Scale

SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale(
            "tiny",
            100_000,
            1.2,
            n_lsoas=60,
            n_icbs=1,
            n_sub_icbs=2,
            n_las=3,
            description="a corner of an ICB, for tests (about 60 LSOAs)",
        ),
        Scale(
            "small",
            250_000,
            1.5,
            n_lsoas=150,
            n_icbs=1,
            n_sub_icbs=2,
            n_las=3,
            description="a quarter of an ICB",
        ),
        Scale(
            "icb",
            1_500_000,
            2.0,
            n_lsoas=900,
            n_icbs=1,
            n_sub_icbs=3,
            n_las=5,
            description="one ICB of about 1.5 million people",
        ),
        Scale(
            "region",
            6_000_000,
            3.0,
            n_lsoas=3_600,
            n_icbs=4,
            n_sub_icbs=10,
            n_las=18,
            description="an NHS region of four ICBs",
        ),
        Scale(
            "england",
            57_000_000,
            3.0,
            n_lsoas=33_755,
            n_icbs=42,
            n_sub_icbs=106,
            n_las=296,
            activities_per_1000=3.0,
            description="the size of England (fictional geography), with a denser community "
            "offer: tens of millions of session rows",
        ),
    )
}
