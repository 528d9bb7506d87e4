"""figures: the light and dark PNG of a chart are one figure in two palettes: same size, the
same marks in the same places, and no colour of the light palette left in the dark one."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as Picture

from generator.figures import SWAP, THEMES, darkened
from generator.illustrations import Image
from tests.test_illustrations import report


@pytest.fixture(scope="module")
def images() -> tuple[Image, ...]:
    return report(n_clusters=(2, 4))[0].illustrations.images()


def pixels(content: bytes) -> np.ndarray:
    with Picture.open(io.BytesIO(content)) as picture:
        return np.asarray(picture.convert("RGB")).astype(int)


def marks(picture: np.ndarray, background: str) -> np.ndarray:
    """Where a chart draws anything: pixels away from its background colour."""
    colour = np.array([int(background[i:i + 2], 16) for i in (1, 3, 5)])
    found: np.ndarray = np.abs(picture - colour).sum(axis=2) > 24
    return found


def test_every_chart_comes_in_both_palettes_from_one_layout(images: tuple[Image, ...]) -> None:
    assert len(images) >= 6
    for image in images:
        light, dark = pixels(image.content), pixels(image.dark)
        assert light.shape == dark.shape, image.src
        drawn_light, drawn_dark = marks(light, THEMES["light"].background), marks(dark, THEMES["dark"].background)
        overlap = (drawn_light & drawn_dark).sum() / (drawn_light | drawn_dark).sum()
        assert overlap > 0.9, (image.src, overlap)  # the same marks in the same places


def test_dark_charts_hold_no_light_background_and_light_ones_no_dark(images: tuple[Image, ...]) -> None:
    white, night = np.array([255, 255, 255]), np.array([0x1E, 0x21, 0x29])
    for image in images:
        light, dark = pixels(image.content), pixels(image.dark)
        assert not (dark == white).all(axis=2).any(), image.src
        assert not (light == night).all(axis=2).any(), image.src
        assert (light[0, 0] == white).all(), image.src
        assert (dark[0, 0] == night).all(), image.src


def test_every_light_colour_has_one_dark_counterpart() -> None:
    light, dark = THEMES["light"], THEMES["dark"]
    assert SWAP[light.background] == dark.background.lower()
    assert SWAP[light.ink] == dark.ink.lower()
    assert SWAP["#000000"] == "#dddddd"  # black, invisible on the dark page, becomes light grey
    assert len(set(SWAP.values())) == len(SWAP)


def test_charts_are_the_same_bytes_on_every_run(images: tuple[Image, ...]) -> None:
    again = report(n_clusters=(2, 4))[0].illustrations.images()
    assert [(i.content, i.dark) for i in images] == [(i.content, i.dark) for i in again]


def test_a_translucent_light_colour_becomes_the_same_opacity_of_its_dark_counterpart() -> None:
    def rgb(colour: str) -> np.ndarray:
        return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)

    light, dark = THEMES["light"], THEMES["dark"]
    blue = light.palette[0]
    entries = [rgb(light.background), rgb(light.ink), rgb("#000000"), 0.3 * rgb(blue) + 0.7 * rgb(light.background),
               0.85 * rgb(light.palette[3]) + 0.15 * rgb(light.background)]
    palette = [round(v) for entry in entries for v in entry]
    got = np.array(darkened(palette)).reshape(-1, 3)
    expected = [rgb(dark.background), rgb(dark.ink), rgb("#dddddd"),
                0.3 * rgb(dark.palette[0]) + 0.7 * rgb(dark.background),
                0.85 * rgb(dark.palette[3]) + 0.15 * rgb(dark.background)]
    assert np.abs(got - np.array(expected)).max() <= 2, got


def test_the_dark_png_is_the_light_picture_saved_with_the_dark_palette(images: tuple[Image, ...]) -> None:
    """The dark PNG reuses the light one's encoded pixels (only its palette differs): it must decode to
    what Pillow gives for the light picture with the darkened palette, and be a valid PNG."""
    for image in images:
        with Picture.open(io.BytesIO(image.content)) as light, Picture.open(io.BytesIO(image.dark)) as dark:
            assert light.mode == dark.mode == "P", image.src
            dark.load()  # checks every chunk's CRC
            assert np.array_equal(np.asarray(light), np.asarray(dark)), image.src  # the same indices
            assert dark.getpalette() == darkened(light.getpalette() or []), image.src
