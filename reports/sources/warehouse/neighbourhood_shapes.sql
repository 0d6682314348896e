-- One SVG path per neighbourhood for the map (real ONS boundaries when the codes are real,
-- generated tiles for the fictional demo geography).
select
    neighbourhood_code,
    svg_path,
    shape_origin
from icp.neighbourhood_shapes
