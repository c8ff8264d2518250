"""Images: decoding (the only place files and bytes become pixels) and preparation.

`decode` and `from_array` give a `DecodedImage`; `prepare` turns it into what
the metrics compare under a `Settings`; `load_image` decodes any input without
raising; `name_inputs` names every input the one way the whole package does.
"""

from imgsim.images._decode import (
    FORMATS_TEXT,
    IMAGE_EXTENSIONS,
    DecodedImage,
    ImageReadError,
    decode,
    from_array,
    is_image_filename,
    read_file,
)
from imgsim.images._files import LINK_OUTSIDE, NOT_AN_IMAGE, Walk, walk_images, write_atomically
from imgsim.images._prepare import (
    THUMBNAIL_SIDE,
    centre_crop_box,
    enlargement,
    fit,
    flatten_alpha,
    letterbox_box,
    prepare,
    thumbnail,
)
from imgsim.images._sources import (
    ImageError,
    ImageInfo,
    ImageSource,
    input_name,
    load_image,
    name_inputs,
    unique_names,
)

__all__ = [
    "FORMATS_TEXT",
    "IMAGE_EXTENSIONS",
    "LINK_OUTSIDE",
    "NOT_AN_IMAGE",
    "THUMBNAIL_SIDE",
    "DecodedImage",
    "ImageError",
    "ImageInfo",
    "ImageReadError",
    "ImageSource",
    "Walk",
    "centre_crop_box",
    "decode",
    "enlargement",
    "fit",
    "flatten_alpha",
    "from_array",
    "input_name",
    "is_image_filename",
    "letterbox_box",
    "load_image",
    "name_inputs",
    "prepare",
    "read_file",
    "thumbnail",
    "unique_names",
    "walk_images",
    "write_atomically",
]
