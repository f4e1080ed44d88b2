"""codec_corruption: real x264 packet damage, labelled against the clean decode of one encode."""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.video import x264

GOP = 8  # keyframes at 0 and 8 in a 16-frame clip


def draw_with_hits(hits: list[dict], **overrides) -> tuple[impairments.Impairment, dict]:
    """Draw the encode settings, then place the hits by hand (the test decides where to hit)."""
    impairment = impairments.get(
        "codec_corruption", severity=3, gop_frames=(GOP, GOP), crf=(23, 23), **overrides
    )
    params = impairment.draw(np.random.default_rng(0), (16, 96, 128), 25.0)
    params["hits"] = hits
    return impairment, params


def test_a_heavy_hit_is_labelled_and_propagates_until_the_next_keyframe(make_clip) -> None:
    clip = make_clip()
    impairment, params = draw_with_hits([{"frame": 2, "drop": False, "bytes_hit": 10.0}])
    _out, mask = impairment.apply(clip, params, np.random.default_rng(0))
    damaged = [i for i in range(16) if mask[i].any()]
    assert damaged == list(range(2, GOP)), "damage must run from the hit to the next keyframe"
    assert params["repeated_frames"] == []
    assert params["keyframes"] == [0, 8]
    assert params["visible"] and params["hits"][0]["amount"] >= 1


def test_zero_bytes_hit_gives_an_empty_mask_and_the_clean_decode(make_clip) -> None:
    clip = make_clip()
    impairment, params = draw_with_hits([{"frame": 3, "drop": False, "bytes_hit": 0.0}])
    out, mask = impairment.apply(clip, params, np.random.default_rng(0))
    assert not mask.any() and params["visible"] is False
    assert params["hits"][0]["amount"] == 0
    encoded = x264.encode(clip, fps=25.0, crf=23, slices=params["slices"], gop=GOP)
    clean, source = x264.decode(encoded.packets, encoded.extradata, 16, 96, 128)
    assert np.array_equal(source, np.arange(16)) and np.array_equal(out, clean)


def test_a_dropped_packet_repeats_the_frame_unlabelled_and_labels_the_drift(make_clip) -> None:
    clip = make_clip()
    impairment, params = draw_with_hits(
        [{"frame": 3, "drop": True, "bytes_hit": 1.0}], label="difference"
    )
    out, mask = impairment.apply(clip, params, np.random.default_rng(0))
    assert params["repeated_frames"] == [3]
    assert np.array_equal(out[3], out[2])  # the player shows the last picture again
    assert not mask[3].any()
    assert all(mask[i].any() for i in range(4, GOP)) and not mask[GOP:].any()


def test_a_frame_repeated_after_damage_carries_the_damage_it_shows(make_clip) -> None:
    clip = make_clip()
    # Heavy damage at frame 3 (this encode) makes the decoder give up on frames 4-7: the player
    # keeps showing the damaged frame 3, so those frames are labelled like it.
    impairment, params = draw_with_hits([{"frame": 3, "drop": False, "bytes_hit": 60.0}])
    out, mask = impairment.apply(clip, params, np.random.default_rng(0))
    assert params["repeated_frames"] == [4, 5, 6, 7]
    assert mask[3].any()
    for index in params["repeated_frames"]:
        assert np.array_equal(out[index], out[3]) and np.array_equal(mask[index], mask[3])
    assert not mask[:3].any() and not mask[GOP:].any()


def test_the_mask_is_whole_macroblocks_even_on_odd_sizes(make_clip) -> None:
    clip = make_clip(frames=6, height=70, width=100)
    _out, annotation = impairments.get("codec_corruption", severity=5)(clip, seed=1)
    blocks = annotation.macroblock_mask
    expanded = blocks.repeat(16, 1).repeat(16, 2)[:, :70, :100]
    assert annotation.mask.any() and np.array_equal(expanded, annotation.mask)


def test_severity_raises_the_damaged_area_on_average(make_clip) -> None:
    clip = make_clip()
    area = {
        severity: np.mean(
            [
                impairments.get("codec_corruption", severity=severity)(clip, seed=s)[1].mask.mean()
                for s in range(6)
            ]
        )
        for severity in (1, 5)
    }
    assert area[1] < area[5]


@pytest.mark.parametrize("hit", [{"frame": 3, "drop": True}, {"frame": 2, "drop": False}])
def test_the_visible_label_keeps_a_subset_of_the_difference_label(make_clip, hit) -> None:
    clip = make_clip()
    masks, outs = {}, {}
    for label in ("difference", "visible"):
        impairment, params = draw_with_hits([{**hit, "bytes_hit": 10.0}], label=label)
        outs[label], masks[label] = impairment.apply(clip, params, np.random.default_rng(0))
        assert params.get("label", "difference") == label
    assert np.array_equal(outs["difference"], outs["visible"]), "the label must not change pixels"
    assert masks["difference"].any() and not (masks["visible"] & ~masks["difference"]).any()
    if not hit["drop"]:  # damaged bytes decode as garbage; a drop only shifts this fine texture
        assert masks["visible"].any()


def test_contrast_masking_hides_seams_in_texture(make_clip) -> None:
    """The first visible label (``contrast_masking=0``) judged seams against the mean step alone
    and kept more of the blocks a drift leaves in fine texture; masking never adds blocks."""
    clip = make_clip()
    kept = {}
    for masking in (0.0, 1.0):
        impairment, params = draw_with_hits(
            [{"frame": 3, "drop": True, "bytes_hit": 1.0}], contrast_masking=masking
        )
        kept[masking] = impairment.apply(clip, params, np.random.default_rng(0))[1]
        assert params.get("contrast_masking", 0.0) == masking
    assert not (kept[1.0] & ~kept[0.0]).any() and kept[1.0].sum() < kept[0.0].sum()


def test_a_negative_contrast_masking_is_refused() -> None:
    with pytest.raises(ValueError, match="contrast_masking"):
        impairments.get("codec_corruption", contrast_masking=-1.0)


def test_an_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="label"):
        impairments.get("codec_corruption", label="everything")


def test_params_record_what_was_done(make_clip) -> None:
    _, annotation = impairments.get("codec_corruption", severity=4)(make_clip(), seed=3)
    params = annotation.params
    recorded = {"crf", "slices", "gop_frames", "hits", "keyframes", "visible", "preset", "label"}
    assert recorded <= set(params)
    for hit in params["hits"]:
        assert {"frame", "drop", "packet_bytes", "keyframe"} <= set(hit)
        assert hit["drop"] or hit["amount"] >= 1


@pytest.mark.parametrize("slices", [1, 4])
def test_encode_gives_one_packet_per_frame_with_fixed_keyframes(slices: int, make_clip) -> None:
    clip = make_clip(frames=10)
    encoded = x264.encode(clip, fps=25.0, crf=28, slices=slices, gop=4)
    assert [p.pts for p in encoded.packets] == list(range(10))
    assert [i for i, p in enumerate(encoded.packets) if p.is_keyframe] == [0, 4, 8]
