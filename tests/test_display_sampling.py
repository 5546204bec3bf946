import json

from collected_factory import make_collected

from reportgen.render.display_sampling import thumbnail_mask, thumbnail_note
from reportgen.render.sample_payload import sample_payload


def test_mask_keeps_everything_under_the_cap_and_a_seeded_subset_above():
    assert thumbnail_mask(10, cap=20).all() and thumbnail_note(thumbnail_mask(10, cap=20)) is None
    a, b = thumbnail_mask(100, seed=3, cap=30), thumbnail_mask(100, seed=3, cap=30)
    assert a.sum() == 30 and (a == b).all()
    assert "30 of 100" in thumbnail_note(a)


def test_payload_drops_thumbnails_above_the_cap_but_keeps_every_row():
    collected = make_collected(n=40)
    payload = sample_payload(collected, thumbnail_cap=10)
    assert len(payload["path"]) == 40 and len(payload["thumb"]) == 40
    assert sum(1 for t in payload["thumb"] if t) == 10
    json.dumps(payload)
