-- Each local authority on the map: its outline (real boundary, or the box around its
-- generated tiles) and where its name is written.
select
    lad_code,
    lad_name,
    svg_path,
    label_x,
    label_y
from icp.la_shapes
