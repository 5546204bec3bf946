"""The fingerprints and the duplicate links on hand-made arrays: pHash equals the imagehash package's, the pixel
hash sees pixels and not files, each link source finds what it is for, and groups are the links' components."""

import numpy as np
import pytest
from PIL import Image

from reportgen.compute.duplicates import duplicate_groups, hash_pairs, nearest_median
from reportgen.compute.image_hashes import hamming, perceptual_hashes, pixel_hash
from reportgen.compute.neighbours import nearest_neighbours


def smooth_images(n: int, rng, side: int = 32) -> np.ndarray:
    """(n, side*side) uint8 grey images with low-frequency structure (pHash has something to read)."""
    yy, xx = np.mgrid[:side, :side] / side
    out = []
    for _ in range(n):
        a, b, c, d = rng.uniform(0.5, 4, 4)
        image = 127 + 60 * np.sin(a * xx + b) * np.cos(c * yy + d) + rng.normal(0, 6, (side, side))
        out.append(np.clip(image, 0, 255).astype(np.uint8).reshape(-1))
    return np.stack(out)


def test_perceptual_hash_is_imagehash_phash():
    imagehash = pytest.importorskip("imagehash")
    rng = np.random.default_rng(0)
    pixels = np.concatenate([smooth_images(40, rng), rng.integers(0, 256, (20, 1024), dtype=np.uint8)])
    ours = perceptual_hashes(pixels)
    theirs = np.array([int(str(imagehash.phash(Image.fromarray(p.reshape(32, 32), "L"))), 16) for p in pixels],
                      np.uint64)
    np.testing.assert_array_equal(ours, theirs)
    # RGB copies: our luma is PIL's before its rounding to whole grey levels, so a bit near the median may differ
    rgb = np.repeat(pixels[:20].reshape(20, 32, 32, 1), 3, axis=3).reshape(20, -1)
    assert hamming(perceptual_hashes(rgb), theirs[:20]).max() <= 1


def test_pixel_hash_sees_pixels_not_files(tmp_path):
    array = np.random.default_rng(1).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "a.png")
    Image.fromarray(array).save(tmp_path / "b.bmp")
    Image.fromarray(array).save(tmp_path / "c.jpg", quality=95)
    hashes = {p.suffix: pixel_hash(Image.open(p).convert("RGB")) for p in tmp_path.iterdir()}
    assert hashes[".png"] == hashes[".bmp"] != hashes[".jpg"]  # lossless re-saves are exact copies; JPEG is not
    changed = array.copy()
    changed[3, 4, 0] ^= 1
    assert pixel_hash(Image.fromarray(changed)) != hashes[".png"]
    grey = Image.fromarray(array[:, :, 0], "L")
    assert pixel_hash(grey) != pixel_hash(grey.convert("RGB"))  # the same values in another mode


def planted_arrays(seed: int = 0):
    """300 samples in 8-d; rows 0-1 the same pixels; 2-3 nearly the same embedding but different pixels (a
    shifted copy); 4-5 nearly the same pixels but far apart in the embedding (a re-encoded copy the model treats
    differently); 6-7 by embedding and 7-8 by pixels (one group of three through a chain); 9-10 NaN logits
    (zeros): no copies."""
    rng = np.random.default_rng(seed)
    n = 300
    embeddings = rng.normal(0, 1, (n, 8)).astype(np.float32)
    pixels = smooth_images(n, rng)
    pixels[1] = pixels[0]
    embeddings[1] = embeddings[0]
    embeddings[3] = embeddings[2] + 1e-3
    pixels[5] = np.clip(pixels[4].astype(int) + rng.integers(-3, 4, 1024), 0, 255)
    embeddings[7] = embeddings[6] + 1e-3
    pixels[8] = pixels[7]
    embeddings[8] = embeddings[7] + rng.normal(0, 0.3, 8)
    embeddings[9:11] = 0
    hashes = np.array([hash(p.tobytes()) & (2**63 - 1) for p in pixels], np.uint64)
    usable = np.ones(n, bool)
    usable[9:11] = False
    return embeddings, pixels, hashes, usable


def test_each_source_links_what_it_is_for_and_groups_follow_chains():
    embeddings, pixels, hashes, usable = planted_arrays()
    graph = nearest_neighbours(embeddings, 15)
    found = duplicate_groups(embeddings, graph.indices, graph.distances, hashes, perceptual_hashes(pixels), pixels,
                             usable=usable)
    assert [g.tolist() for g in found.members] == [[0, 1], [2, 3], [4, 5], [6, 7, 8]]
    links = found.links
    by_pair = {(int(a), int(b)): (bool(e), bool(m), bool(h)) for a, b, e, m, h in
               zip(links.a, links.b, links.exact, links.by_embedding, links.by_hash)}
    assert by_pair[(0, 1)][0] and by_pair[(2, 3)] == (False, True, False)
    assert by_pair[(4, 5)] == (False, False, True) and by_pair[(7, 8)][0]
    assert found.group_of[[0, 2, 4, 8, 9, 10, 11]].tolist() == [0, 1, 2, 3, -1, -1, -1]
    assert found.threshold == pytest.approx(0.13 * nearest_median(graph.distances[usable]))


def test_hash_links_need_close_pixels_too():
    """Look-alikes share low frequencies (and so a pHash) without being copies: bars of other widths, as digits
    of one class can be. The pixel check keeps them apart; re-encoded copies (2 grey levels off) pass it."""
    yy, xx = np.mgrid[:32, :32]
    shade = 40 * np.sin(yy / 5) + 10 * np.cos(xx / 7)
    lookalikes = np.stack([np.clip((np.abs(xx - 16) < w) * 150 + 60 + shade, 0, 255).astype(np.uint8).reshape(-1)
                           for w in (3, 4, 5)])
    phash = perceptual_hashes(lookalikes)
    assert (phash == phash[0]).all()  # the hash alone would call them copies
    a, b = hash_pairs(phash, lookalikes)
    assert a.size == 0
    copies = np.concatenate([lookalikes, lookalikes + 2])
    a, b = hash_pairs(perceptual_hashes(copies), copies)
    assert sorted(zip(a.tolist(), b.tolist())) == [(i, i + 3) for i in range(3)]


def test_exact_copies_do_not_zero_the_threshold():
    """With most samples copied, the median nearest distance would be 0 and no near copy could be found."""
    rng = np.random.default_rng(3)
    embeddings = rng.normal(0, 1, (100, 4)).astype(np.float32)
    embeddings = np.concatenate([embeddings, embeddings[:70]])
    graph = nearest_neighbours(embeddings, 5)
    assert np.median(graph.distances[:, 1]) == 0 and nearest_median(graph.distances) > 0
