"""Outputs: results as JSON, CSV, Parquet or text tables, with provenance.

The JSON documents are contracts that scripts rely on (see the CLI guide);
every document ends with ``"provenance"``: versions and each input's SHA-256.
"""

from imgsim.outputs._format import (
    align_columns,
    csv_number,
    errors_list,
    finite_or_none,
    images_list,
    to_json_text,
)
from imgsim.outputs._neighbours import (
    flags_cell,
    neighbour_rows,
    neighbours_tables,
    neighbours_to_csv,
    neighbours_to_dict,
    neighbours_to_json,
    neighbours_to_parquet,
    neighbours_to_table,
    neighbours_with_provenance,
    table_path,
)
from imgsim.outputs._provenance import (
    LIBRARIES,
    library_versions,
    provenance,
    sha256_of,
    with_provenance,
)
from imgsim.outputs._report import (
    CSV_COLUMNS,
    classification_to_dict,
    classification_to_table,
    inspection_to_dict,
    inspection_to_table,
    scales_to_list,
    settings_line,
    sweep_to_csv,
    sweep_to_dict,
    sweep_to_table,
    to_csv,
    to_dict,
    to_json,
    to_table,
    zero_footnote,
)

__all__ = [
    "CSV_COLUMNS",
    "LIBRARIES",
    "align_columns",
    "classification_to_dict",
    "classification_to_table",
    "csv_number",
    "errors_list",
    "finite_or_none",
    "flags_cell",
    "images_list",
    "inspection_to_dict",
    "inspection_to_table",
    "library_versions",
    "neighbour_rows",
    "neighbours_tables",
    "neighbours_to_csv",
    "neighbours_to_dict",
    "neighbours_to_json",
    "neighbours_to_parquet",
    "neighbours_to_table",
    "neighbours_with_provenance",
    "provenance",
    "scales_to_list",
    "settings_line",
    "sha256_of",
    "sweep_to_csv",
    "sweep_to_dict",
    "sweep_to_table",
    "table_path",
    "to_csv",
    "to_dict",
    "to_json",
    "to_json_text",
    "to_table",
    "with_provenance",
    "zero_footnote",
]
