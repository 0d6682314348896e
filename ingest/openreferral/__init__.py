"""Open Referral directories (ORUK, HSDS 3.x) read into providers and activities.

``DIRECTORY_FEEDS`` is the section of docs/contracts.md (generated) on loading one.
"""

DIRECTORY_FEEDS = """\
## Community directories as published (Open Referral)

`providers` and `activities` also load from a council's or infrastructure body's Open
Referral directory as its API returns it, with no reshaping by hand:

```bash
icb-insight ingest directory services-page-*.json service-*.json \\
    --directory camden --local-authority E09000007
```

- Files: `/services` list pages (ORUK v1 `content`/`totalElements`; HSDS 3.x
  `contents`/`total_items`) and full service records (`/services/{id}`, one object or a JSON
  array of them), in any mix: a service on a page and in a full record is one service, the
  full record's fields win. ORUK v1 (UK profile), ORUK-style APIs (`organisation`,
  `locations` with GeoJSON points, `taxonomies`, weekday schedules), HSDS 3.0 and 3.1.
- `--directory NAME` is the directory's short name, kept as `directory_id`: a directory's
  load replaces only its own records, so several directories load side by side in any
  order (default: the `--local-authority` code, else the files' folder name).
- Venue: the LSOA 2021 polygon its coordinates fall in (point in polygon against
  `boundaries_lsoa21_ew_bsc_geographr.geojson` in the shared reference folder, or the file
  in `$ICB_INSIGHT_LSOA_BOUNDARIES` / `--boundaries`), among the warehouse's LSOAs only (load
  the geography first); coordinates outside them give no LSOA. A service with no location
  (or at 0,0, how feeds mark online or nationwide services) is placed in
  `--local-authority`, with `venue_placement` `publisher_area`.
- Sessions a week from the schedules (`freq`, `interval`, `byday`, `bymonthday`,
  `valid_from`/`valid_to`, which also give the start and end dates); places from HSDS 3.1
  capacity (`maximum`, else `available`) in a unit that counts people; otherwise places
  are empty: unknown, never 0, and the marts count such activities apart
  (`activities_unknown_capacity_count`). Cost: the lowest GBP cost option.
- Category: mapped from the taxonomy terms by the editable dbt seed
  `dbt_project/seeds/activity_taxonomy_categories.csv` (add a row for a directory's own
  vocabulary; unmatched terms give `other`).
- Organisation identifiers (HSDS `organization_identifiers`, charity and company numbers)
  give `org_id`, `charity_number` and `company_number`.
- Kept and screened like any file: ids, names, identifiers, taxonomy terms, venue LSOA,
  schedule, capacity, cost, dates. Dropped unkept, never stored: descriptions, venue
  addresses and postcodes, phone numbers, emails, web addresses and contacts (named staff).
- In a sources folder (the demo's, or the build's), `directories/<name>/` holds one
  directory's JSON files and an optional `publisher.json` (`{"local_authority": "E0..."}`);
  the build loads each in place of a flat `providers` / `activities` file. (The landing
  sensor takes flat files only: load a feed with the command above or from the sources
  folder.)

To add a directory feed: save its pages and records into `directories/<name>/` of the
sources folder (or run the command above), give its local authority in `publisher.json`,
and extend the taxonomy seed if its terms map to `other`.
"""
