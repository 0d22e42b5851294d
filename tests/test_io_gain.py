"""Lead-field (gain matrix) and sensor loaders in massfit.io, on small files written here."""

import bz2

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.io

import massfit.io as mio


# 4 sensors x 3 regions, with values that text must carry exactly (repr round-trips floats).
GAIN = np.array(
    [[0.5, -1.25, 3.0e-7], [2.0, 0.0, -0.125], [1.0 / 3.0, 7.5, 2.0], [-4.0, 1.0e3, 0.25]]
)
SENSORS = ("Fp1", "Fp2", "T8/T4", "Cz")
POSITIONS = np.array(
    [[102.5, 40.2, 45.1], [102.5, -39.9, 44.8], [11.3, -83.6, 41.1], [-6.5, -0.1, 147.8]]
)


def _tvb_text(matrix, labels=None, sep=" "):
    """Rows of a TVB-style whitespace-separated file, optionally a first column of labels."""
    rows = [sep.join(repr(float(v)) for v in row) for row in matrix]
    if labels is not None:
        rows = [f"{label}{sep}{row}" for label, row in zip(labels, rows, strict=True)]
    return "\n".join(rows) + "\n"


def _truncate(path, keep=0.6):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- the formats -------------------------------------------------------------------------


def test_tvb_projection_text(tmp_path):
    path = tmp_path / "projection_eeg_4.txt"
    path.write_text(_tvb_text(GAIN))
    gain = mio.load_gain(path, n_regions=3)
    assert gain.shape == (4, 3) and gain.dtype == jnp.float64
    np.testing.assert_array_equal(gain, GAIN)
    gain, labels = mio.load_gain(path, return_labels=True)
    assert labels is None
    # A first column of sensor names gives the labels; bzip2 as TVB ships some files.
    path = tmp_path / "projection_meg_4.txt.bz2"
    path.write_bytes(bz2.compress(_tvb_text(GAIN, SENSORS, sep="\t").encode()))
    gain, labels = mio.load_gain(path, return_labels=True)
    np.testing.assert_array_equal(gain, GAIN)
    assert labels == SENSORS


def test_npy_npz_and_mat(tmp_path):
    np.save(tmp_path / "g.npy", GAIN)
    np.testing.assert_array_equal(mio.load_gain(tmp_path / "g.npy"), GAIN)
    # .npz: the only numeric array, with sensor labels beside it; or the array named by key.
    np.savez(tmp_path / "one.npz", leadfield=GAIN, ch_names=np.array(SENSORS))
    gain, labels = mio.load_gain(tmp_path / "one.npz", return_labels=True)
    np.testing.assert_array_equal(gain, GAIN)
    assert labels == SENSORS
    np.savez(tmp_path / "two.npz", eeg=GAIN, meg=2 * GAIN)
    np.testing.assert_array_equal(mio.load_gain(tmp_path / "two.npz", key="meg"), 2 * GAIN)
    with pytest.raises(ValueError, match=r"two.npz: several numeric arrays could be the gain "):
        mio.load_gain(tmp_path / "two.npz")
    with pytest.raises(ValueError, match=r"no array named 'seeg' for the gain matrix"):
        mio.load_gain(tmp_path / "two.npz", key="seeg")
    # .mat: TVB's variable name, found as the only numeric variable or by key.
    scipy.io.savemat(tmp_path / "p.mat", {"ProjectionMatrix": GAIN})
    np.testing.assert_array_equal(mio.load_gain(tmp_path / "p.mat"), GAIN)
    np.testing.assert_array_equal(mio.load_gain(tmp_path / "p.mat", key="ProjectionMatrix"), GAIN)


def test_sensors_eeg_and_meg(tmp_path):
    path = tmp_path / "sensors_eeg_4.txt"
    path.write_text(_tvb_text(POSITIONS, SENSORS, sep="\t"))
    sensors = mio.load_sensors(path)
    assert sensors.labels == SENSORS and sensors.n_sensors == 4
    np.testing.assert_array_equal(sensors.positions, POSITIONS)
    assert sensors.orientations is None
    # MEG: position and orientation; in cm here, converted to mm; compressed.
    orientations = np.tile([0.0, 0.6, 0.8], (4, 1))
    path = tmp_path / "sensors_meg_4.txt.bz2"
    text = _tvb_text(np.hstack([POSITIONS / 10, orientations]), SENSORS, sep=" ")
    path.write_bytes(bz2.compress(text.encode()))
    sensors = mio.load_sensors(path, length_unit="cm")
    np.testing.assert_allclose(sensors.positions, POSITIONS, rtol=1e-15)
    np.testing.assert_array_equal(sensors.orientations, orientations)
    # No labels: numbered.
    path = tmp_path / "xyz.txt"
    path.write_text(_tvb_text(POSITIONS))
    assert mio.load_sensors(path).labels == ("s0", "s1", "s2", "s3")


# --- checks ------------------------------------------------------------------------------


def test_shape_finiteness_and_n_regions(tmp_path):
    np.save(tmp_path / "v.npy", GAIN[0])
    with pytest.raises(ValueError, match=r"v.npy: a gain matrix must be 2-D.*\(3,\).*one row"):
        mio.load_gain(tmp_path / "v.npy")
    bad = GAIN.copy()
    bad[2, 1] = np.nan
    bad[3, 0] = np.inf
    (tmp_path / "nan.txt").write_text(_tvb_text(bad))
    with pytest.raises(
        ValueError,
        match=r"nan.txt: `gain` must be finite; it has 2 non-finite value\(s\), the first at "
        r"sensor 2, region 1 \(nan\)",
    ):
        mio.load_gain(tmp_path / "nan.txt")
    np.savez(tmp_path / "nan.npz", L=bad)
    with pytest.raises(ValueError, match=r"`L` must be finite.*sensor 2, region 1"):
        mio.load_gain(tmp_path / "nan.npz")
    (tmp_path / "g.txt").write_text(_tvb_text(GAIN))
    with pytest.raises(
        ValueError,
        match=r"g.txt: the gain matrix has 3 region columns \(shape \(4, 3\)\) but n_regions=68",
    ):
        mio.load_gain(tmp_path / "g.txt", n_regions=68)
    with pytest.raises(ValueError, match=r"n_regions=4. Its rows number n_regions.*gain.T"):
        mio.load_gain(tmp_path / "g.txt", n_regions=4)
    with pytest.raises(ValueError, match=r"`n_regions` must be at least 1 \(regions\); got 0"):
        mio.load_gain(tmp_path / "g.txt", n_regions=0)
    with pytest.raises(ValueError, match=r"`key` and `labels_key` name arrays in .npz and .mat"):
        mio.load_gain(tmp_path / "g.txt", key="gain")
    with pytest.raises(ValueError, match=r"cannot tell the format of .*g.h5"):
        mio.load_gain(tmp_path / "g.h5")
    np.savez(tmp_path / "labels.npz", gain=GAIN, labels=np.array(SENSORS[:3]))
    with pytest.raises(ValueError, match=r"labels.npz: 3 sensor labels for 4 sensors"):
        mio.load_gain(tmp_path / "labels.npz")


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".mat", ".txt", ".txt.bz2"])
def test_truncated_files_are_named(tmp_path, suffix):
    path = tmp_path / f"projection{suffix}"
    if suffix == ".npy":
        np.save(path, GAIN)
    elif suffix == ".npz":
        np.savez(path, gain=GAIN)
    elif suffix == ".mat":
        scipy.io.savemat(path, {"ProjectionMatrix": GAIN})
    elif suffix == ".txt":
        path.write_text(_tvb_text(GAIN))
    else:
        path.write_bytes(bz2.compress(_tvb_text(GAIN).encode()))
    mio.load_gain(path)  # whole, it loads
    _truncate(path)
    with pytest.raises(ValueError, match=rf"projection{suffix}: .*truncated or damaged"):
        mio.load_gain(path)


def test_damaged_bytes_are_named(tmp_path):
    np.savez(tmp_path / "crc.npz", gain=GAIN)
    data = bytearray((tmp_path / "crc.npz").read_bytes())
    data[100] ^= 0xFF  # inside the stored array: the archive's checksum no longer matches
    (tmp_path / "crc.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"crc.npz: the file is truncated or damaged .*CRC"):
        mio.load_gain(tmp_path / "crc.npz")
    (tmp_path / "bin.txt").write_bytes(b"0.5 1.0\n\xff\xfe\x00 2.0\n")
    with pytest.raises(ValueError, match=r"bin.txt: byte 8 is not text.*truncated or damaged"):
        mio.load_gain(tmp_path / "bin.txt")
    np.save(tmp_path / "obj.npy", np.array([GAIN, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj.npy: its array is an object array.*never unpick"):
        mio.load_gain(tmp_path / "obj.npy")


def test_sensor_file_errors(tmp_path):
    (tmp_path / "s.txt").write_text("Fp1 1.0 2.0\nFp2 3.0 4.0\n")
    with pytest.raises(ValueError, match=r"s.txt: sensor lines are 'label x y z'.* has 2 values"):
        mio.load_sensors(tmp_path / "s.txt")
    (tmp_path / "t.txt").write_text(_tvb_text(POSITIONS, SENSORS)[:-12])
    with pytest.raises(ValueError, match=r"t.txt: line 4 has .*truncated or damaged"):
        mio.load_sensors(tmp_path / "t.txt")
    (tmp_path / "n.txt").write_text("Fp1 1.0 nan 2.0\n")
    with pytest.raises(ValueError, match=r"n.txt: `positions` must be finite.*sensor 0, column 1"):
        mio.load_sensors(tmp_path / "n.txt")
    with pytest.raises(ValueError, match=r"`positions` must have shape \(sensors, 3\)"):
        mio.Sensors(np.zeros((2, 2)))
