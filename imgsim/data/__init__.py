"""Built-in sample sets, made from scikit-image's data: the page opens on them.

Each sample is a list of ``(name, encoded bytes)``, as an upload would be.
"""

from imgsim.data._samples import (
    CHANGED_REGIONS,
    EQUAL_MSE,
    FACES,
    FACES_PER_CLASS,
    PASTED_LOGO,
    PASTED_REGION,
    PHOTO_FILES,
    PHOTOS,
    SPOT_THE_DIFFERENCE,
    equal_mse,
    faces,
    load_sample,
    pasted_logo,
    photos,
    sample_names,
    spot_the_difference,
)

__all__ = [
    "CHANGED_REGIONS",
    "EQUAL_MSE",
    "FACES",
    "FACES_PER_CLASS",
    "PASTED_LOGO",
    "PASTED_REGION",
    "PHOTOS",
    "PHOTO_FILES",
    "SPOT_THE_DIFFERENCE",
    "equal_mse",
    "faces",
    "load_sample",
    "pasted_logo",
    "photos",
    "sample_names",
    "spot_the_difference",
]
