"""The contract test that catches the bug in image_analysis_client.py (fails on purpose).

Run it explicitly; the default ``pytest examples`` run leaves this folder out:

    pytest examples/buggy -p no:cacheprovider
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from image_analysis_client import ImageAnalysisClient

from visionapp import VisionAPIError

if TYPE_CHECKING:
    from pytest_visioncontract import VisionError


@pytest.mark.vision_errors("azure_image_analysis", handled=(VisionAPIError,))
def test_caption_errors(vision_error: VisionError) -> None:
    client = ImageAnalysisClient("https://contoso-vision.cognitiveservices.azure.com", "key")
    with pytest.raises(VisionAPIError) as caught:
        client.caption(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert (caught.value.status, caught.value.code) == (vision_error.status, vision_error.code)
