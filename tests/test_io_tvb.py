"""massfit.io.load_tvb_zip / load_tvb_regions on hand-built archives with each real quirk."""

import bz2
import importlib.util
import warnings
import zipfile

import numpy as np
import pytest

import massfit.io as mio

from .helpers import flipped


W = np.array([[0.0, 2.0, 0.5], [1.0, 0.0, 0.0], [3.0, 0.25, 0.0]])
L = np.array([[0.0, 10.0, 20.5], [10.0, 0.0, 30.0], [20.5, 30.0, 0.0]])
CENTRES = "rA1 10.0 -20.0 5.5\nrA2 -3.0 4.0 0.0\nlB 0.5 0.25 -7.0\n"


def _text(matrix):
    return "\n".join(" ".join(repr(float(v)) for v in row) for row in matrix) + "\n"


def _zip(path, members, *, compress=(), folder=""):
    """Write a TVB-style zip; members named in `compress` are stored bzip2-compressed."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            if name in compress:
                data, name = bz2.compress(data), name + ".bz2"
            zf.writestr(folder + name, data)
    return path


def _members(**extra):
    members = {"weights.txt": _text(W), "tract_lengths.txt": _text(L), "centres.txt": CENTRES}
    members.update(extra)
    return members


def test_loads_exact_values_labels_and_tvb_orientation(tmp_path):
    conn = mio.load_tvb_zip(_zip(tmp_path / "c.zip", _members()))
    # TVB stores rows = targets, columns = sources, as massfit does: no transpose.
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(conn.lengths, L)
    assert conn.labels == ("rA1", "rA2", "lB")


def test_from_to_orientation_transposes(tmp_path):
    conn = mio.load_tvb_zip(_zip(tmp_path / "c.zip", _members()), orientation="from_to")
    np.testing.assert_array_equal(conn.weights, W.T)
    np.testing.assert_array_equal(conn.lengths, L.T)


def test_bz2_members_in_a_subfolder_with_mac_junk(tmp_path):
    path = _zip(
        tmp_path / "c.zip",
        _members(),
        compress=("weights.txt", "tract_lengths.txt", "centres.txt"),
        folder="connectivity_3/",
    )
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("__MACOSX/connectivity_3/._weights.txt.bz2", b"\x00\x05junk")
        zf.writestr("connectivity_3/info.txt", 'weights_unit = "au"\nlength_unit = "mm"')
    conn = mio.load_tvb_zip(path)
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(conn.lengths, L)
    assert conn.labels == ("rA1", "rA2", "lB")


@pytest.mark.parametrize(
    "centres, labels",
    [
        ("rA1 10 -20 5.5 None\nrA2 -3 4 0 None\nlB 0.5 0.25 -7 None\n", ("rA1", "rA2", "lB")),
        ("0 rA1 10 -20 5.5\n1 rA2 -3 4 0\n2 lB 0.5 0.25 -7\n", ("rA1", "rA2", "lB")),
        ("rA1,10,-20,5.5\nrA2,-3,4,0\nlB,0.5,0.25,-7\n", ("rA1", "rA2", "lB")),
        ("10 -20 5.5\n-3 4 0\n0.5 0.25 -7\n", ("r0", "r1", "r2")),
    ],
    ids=["5-column", "index-label-xyz", "comma", "xyz-only"],
)
def test_centres_layouts(tmp_path, centres, labels):
    path = _zip(tmp_path / "c.zip", _members(**{"centres.txt": centres}))
    assert mio.load_tvb_zip(path).labels == labels
    np.testing.assert_allclose(
        mio.load_tvb_regions(path).centres, [[10, -20, 5.5], [-3, 4, 0], [0.5, 0.25, -7]]
    )


def test_zero_length_edges_warn_keep_or_error(tmp_path):
    lengths = L.copy()
    lengths[2, 1] = 0.0  # weight 0.25, no length
    lengths[1, 1] = 0.0  # diagonal: never counted
    path = _zip(tmp_path / "c.zip", _members(**{"tract_lengths.txt": _text(lengths)}))
    with pytest.warns(UserWarning, match=r"1 edges have a non-zero weight but zero length"):
        conn = mio.load_tvb_zip(path)
    assert float(conn.lengths[2, 1]) == 0.0 and float(conn.weights[2, 1]) == 0.25
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mio.load_tvb_zip(path, zero_length="keep")
    with pytest.raises(ValueError, match=r"weights\[2, 1\] = 0.25 with lengths\[2, 1\] = 0"):
        mio.load_tvb_zip(path, zero_length="error")


def test_diagonal_policies(tmp_path):
    w = W.copy()
    w[0, 0] = 4.0
    path = _zip(tmp_path / "c.zip", _members(**{"weights.txt": _text(w)}))
    assert float(mio.load_tvb_zip(path).weights[0, 0]) == 4.0
    assert float(mio.load_tvb_zip(path, diagonal="zero").weights[0, 0]) == 0.0
    with pytest.raises(ValueError, match=r"c.zip: .*non-zero diagonal"):
        mio.load_tvb_zip(path, diagonal="error")


def test_normalise_after_the_diagonal(tmp_path):
    w = W.copy()
    w[0, 0] = 10.0  # dropped before scaling, so it does not set the maximum
    path = _zip(tmp_path / "c.zip", _members(**{"weights.txt": _text(w)}))
    scaled = mio.load_tvb_zip(path, diagonal="zero", normalise="max").weights
    np.testing.assert_allclose(scaled, W / 3.0)
    rows = mio.load_tvb_zip(path, diagonal="zero", normalise="row_sum").weights
    np.testing.assert_allclose(rows, W / W.sum(axis=1, keepdims=True))


def test_length_unit_converts_to_mm_and_info_txt_is_checked(tmp_path):
    path = _zip(tmp_path / "c.zip", _members())
    np.testing.assert_allclose(mio.load_tvb_zip(path, length_unit="cm").lengths, 10 * L)
    np.testing.assert_allclose(mio.load_tvb_zip(path, length_unit="m").lengths, 1000 * L)
    np.testing.assert_allclose(
        mio.load_tvb_regions(path, length_unit="cm").centres[0], [100.0, -200.0, 55.0]
    )
    tagged = _zip(tmp_path / "d.zip", _members(**{"info.txt": 'length_unit = "cm"'}))
    with pytest.warns(UserWarning, match="says length_unit = 'cm'"):
        mio.load_tvb_zip(tagged)


def test_verbose_prints_one_summary_line(tmp_path, capsys):
    mio.load_tvb_zip(_zip(tmp_path / "c.zip", _members()), verbose=True)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert "N=3" in out[0] and "asymmetric" in out[0] and "lengths [10, 30] mm" in out[0]


def test_regions_with_optional_members(tmp_path):
    path = _zip(
        tmp_path / "c.zip",
        _members(
            **{
                "areas.txt": "1.5\n2.0\n0.5\n",
                "cortical.txt": "1\n1\n0\n",
                "hemispheres.txt": "True\nTrue\nFalse\n",
                "average_orientations.txt": "1 0 0\n0 1 0\n0 0 1\n",
            }
        ),
        compress=("areas.txt",),
    )
    regions = mio.load_tvb_regions(path, length_unit="cm")
    assert regions.labels == ("rA1", "rA2", "lB")
    np.testing.assert_allclose(regions.areas, [150.0, 200.0, 50.0])  # cm² -> mm²
    np.testing.assert_array_equal(regions.cortical, [True, True, False])
    np.testing.assert_array_equal(regions.hemispheres, [True, True, False])
    np.testing.assert_array_equal(regions.orientations, np.eye(3))
    bare = mio.load_tvb_regions(_zip(tmp_path / "d.zip", _members()))
    assert bare.areas is None and bare.hemispheres is None and bare.cortical is None


def test_regions_validate_shapes():
    with pytest.raises(ValueError, match=r"`centres` must have shape \(N, 3\)"):
        mio.Regions(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must name all 3 regions"):
        mio.Regions(np.zeros((3, 3)), ["a"])
    with pytest.raises(ValueError, match=r"`areas` must have shape \(3,\)"):
        mio.Regions(np.zeros((3, 3)), areas=np.ones(2))
    two = mio.Regions(np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]))
    np.testing.assert_allclose(two.distances(), [[0.0, 5.0], [5.0, 0.0]])
    assert two.labels == ("r0", "r1")


# --- bad files: one clear error each ---------------------------------------------------


def test_missing_required_member(tmp_path):
    members = _members()
    del members["tract_lengths.txt"]
    with pytest.raises(ValueError, match=r"missing required member\(s\) tract_lengths.txt"):
        mio.load_tvb_zip(_zip(tmp_path / "c.zip", members))


def test_non_square_weights(tmp_path):
    path = _zip(tmp_path / "c.zip", _members(**{"weights.txt": _text(W[:2])}))
    with pytest.raises(ValueError, match=r"c.zip: `weights` must be a square .* \(2, 3\)"):
        mio.load_tvb_zip(path)


def test_weights_and_lengths_shape_mismatch(tmp_path):
    path = _zip(tmp_path / "c.zip", _members(**{"tract_lengths.txt": _text(L[:2, :2])}))
    with pytest.raises(ValueError, match=r"`lengths` must have the same shape .* \(2, 2\)"):
        mio.load_tvb_zip(path)


def test_non_numeric_entry_names_line_and_column(tmp_path):
    bad = _text(W).replace("0.25", "n/a")
    path = _zip(tmp_path / "c.zip", _members(**{"weights.txt": bad}), compress=("weights.txt",))
    with pytest.raises(ValueError, match=r"weights.txt.bz2: line 3, column 2: 'n/a' is not a"):
        mio.load_tvb_zip(path)


def test_negative_lengths(tmp_path):
    lengths = L.copy()
    lengths[0, 2] = -1.0
    path = _zip(tmp_path / "c.zip", _members(**{"tract_lengths.txt": _text(lengths)}))
    with pytest.raises(ValueError, match=r"non-negative \(mm\); lengths\[0, 2\] = -1.0"):
        mio.load_tvb_zip(path)


def test_ragged_rows(tmp_path):
    path = _zip(tmp_path / "c.zip", _members(**{"weights.txt": "0 1 2\n1 0\n2 1 0\n"}))
    with pytest.raises(ValueError, match="line 2 has 2 values but line 1 has 3"):
        mio.load_tvb_zip(path)


def test_centres_disagree_with_weights(tmp_path):
    path = _zip(tmp_path / "c.zip", _members(**{"centres.txt": "a 0 0 0\nb 1 1 1\n"}))
    with pytest.raises(ValueError, match="has 2 regions but weights.txt has 3 rows"):
        mio.load_tvb_zip(path)


def test_other_bad_archives(tmp_path):
    not_zip = tmp_path / "c.zip"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="c.zip: not a zip archive"):
        mio.load_tvb_zip(not_zip)
    two = _zip(tmp_path / "two.zip", _members(), folder="a/")
    with zipfile.ZipFile(two, "a") as zf:
        zf.writestr("b/weights.txt", _text(W))
    with pytest.raises(ValueError, match="two members could be weights.txt"):
        mio.load_tvb_zip(two)
    corrupt = tmp_path / "bz.zip"
    with zipfile.ZipFile(corrupt, "w") as zf:
        for name, content in _members().items():
            zf.writestr(name + ".bz2" if name == "weights.txt" else name, content)
    with pytest.raises(ValueError, match=r"txt.bz2: the file is truncated or damaged \(not valid"):
        mio.load_tvb_zip(corrupt)
    flags = _zip(tmp_path / "f.zip", _members(**{"cortical.txt": "1\nyes\n0\n"}))
    with pytest.raises(ValueError, match="'yes' is not a flag"):
        mio.load_tvb_regions(flags)
    short = _zip(tmp_path / "s.zip", _members(**{"areas.txt": "1\n2\n"}))
    with pytest.raises(ValueError, match="has 2 values for 3 regions"):
        mio.load_tvb_regions(short)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_damaged_archive_says_so(tmp_path, compression):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, content in _members().items():
            zf.writestr(name, content)
    intact = path.read_bytes()
    data_start = 30 + len("weights.txt")  # the first member's local header, then its data
    damages = [
        flipped(intact, data_start + 5),  # the weights: fails the member's CRC-32
        flipped(intact, len(intact) - 30),  # the archive's directory
        intact[:20],
        intact[: len(intact) // 2],
        intact[:-1],
    ]
    for damaged in damages:
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"c\.zip: the file is truncated or damaged"):
            mio.load_tvb_zip(path)


# --- the real archives, when the GPL-licensed tvb-data package is installed -------------


@pytest.mark.skipif(importlib.util.find_spec("tvb_data") is None, reason="tvb-data not installed")
@pytest.mark.parametrize("name, n", [("connectivity_76.zip", 76), ("connectivity_192.zip", 192)])
def test_tvb_data_archives(name, n):
    import os

    import tvb_data.connectivity

    path = os.path.join(os.path.dirname(tvb_data.connectivity.__file__), name)
    conn = mio.load_tvb_zip(path, zero_length="keep")
    regions = mio.load_tvb_regions(path)
    assert conn.weights.shape == (n, n) and len(conn.labels) == n
    assert regions.labels == conn.labels and regions.centres.shape == (n, 3)
    assert regions.cortical is not None and regions.areas is not None
    w, ln = np.asarray(conn.weights), np.asarray(conn.lengths)
    assert (w >= 0).all() and not np.allclose(w, w.T)  # these two are directed
    assert 100.0 < ln.max() < 200.0  # mm
    assert 0.05 < (w > 0).mean() < 0.5
