"""The CIFAR-10 loader, on small archives built in the official binary format (no network)."""

import hashlib
import io
import tarfile
import urllib.error

import numpy as np
import pytest

from weightdecay import cifar10 as C
from weightdecay.cifar10 import CIFAR10Error, cifar10

N_PER_FILE = 4


def make_records(n: int, offset: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """``n`` records with known labels and pixels: pixel (c, r, col) = (offset + i + c + r + col) % 256."""
    labels = (np.arange(n) + offset) % 10
    c, r, col = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing="ij")
    images = np.stack([(offset + i + c + 2 * r + 3 * col) % 256 for i in range(n)]).astype(np.uint8)
    raw = b"".join(bytes([labels[i]]) + images[i].tobytes() for i in range(n))
    return raw, images, labels.astype(np.int64)


def make_archive(path, files=None) -> dict:
    files = files if files is not None else [*C.TRAIN_FILES, C.TEST_FILE]
    truth = {}
    with tarfile.open(path, "w:gz") as tar:
        for k, name in enumerate(files):
            raw, images, labels = make_records(N_PER_FILE, 10 * k)
            truth[name] = (images, labels)
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return truth


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A valid small archive in tmp_path/data, with the expected MD5 patched to its checksum."""
    root = tmp_path / "data"
    root.mkdir()
    path = root / C.ARCHIVE_NAME
    truth = make_archive(path)
    monkeypatch.setattr(C, "CIFAR10_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    return root, path, truth


def no_network(url, timeout):
    raise urllib.error.URLError("network is unreachable")


def test_parses_the_binary_format(archive, monkeypatch):
    root, _, truth = archive
    monkeypatch.setattr(C, "_open_url", no_network)  # the archive is there: no download
    data = cifar10(root, download=True)
    assert data.X_train.shape == (5 * N_PER_FILE, 3, 32, 32) and data.X_train.dtype == np.uint8
    assert data.y_train.dtype == np.int64 and data.X_test.shape == (N_PER_FILE, 3, 32, 32)
    np.testing.assert_array_equal(data.X_train[:N_PER_FILE], truth[C.TRAIN_FILES[0]][0])
    np.testing.assert_array_equal(data.y_train[-N_PER_FILE:], truth[C.TRAIN_FILES[-1]][1])
    np.testing.assert_array_equal(data.X_test, truth[C.TEST_FILE][0])
    # channel-major, row-major layout: pixel (c, r, col) of image i is offset + i + c + 2r + 3col
    assert data.X_test[1, 2, 5, 7] == (10 * 5 + 1 + 2 + 10 + 21) % 256
    assert data.train[0] is data.X_train and len(data.classes) == 10


def test_env_var_sets_the_data_directory(archive, monkeypatch):
    root, path, _ = archive
    monkeypatch.setenv("WEIGHTDECAY_DATA", str(root))
    assert C.data_dir() == root
    assert cifar10(download=False).path == path
    monkeypatch.delenv("WEIGHTDECAY_DATA")
    assert C.data_dir() == C.Path.home() / ".cache" / "weightdecay"


def test_corrupt_archive_is_rejected_before_parsing(archive, monkeypatch):
    root, path, _ = archive
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(C, "parse_records", lambda *a: pytest.fail("parsed a corrupt archive"))
    with pytest.raises(CIFAR10Error, match=f"expected {C.CIFAR10_MD5}.*place it at"):
        cifar10(root)


def test_missing_archive_offline_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "_open_url", no_network)
    with pytest.raises(CIFAR10Error, match=f"no internet access.*MD5 is {C.CIFAR10_MD5}.*place it at"):
        cifar10(tmp_path)
    with pytest.raises(CIFAR10Error, match="download=False.*c32a1d4ab5d03f1284b67883e8d87530"):
        cifar10(tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_download_is_verified_and_renamed_when_complete(tmp_path, monkeypatch):
    source = tmp_path / "source.tar.gz"
    make_archive(source)
    payload = source.read_bytes()
    monkeypatch.setattr(C, "CIFAR10_MD5", hashlib.md5(payload).hexdigest())
    urls = []

    def fake_open(url, timeout):
        urls.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(C, "_open_url", fake_open)
    root = tmp_path / "cache" / "nested"
    data = cifar10(root)
    assert urls == [C.CIFAR10_URL]
    assert sorted(p.name for p in root.iterdir()) == [C.ARCHIVE_NAME]  # no temporary file left
    assert data.X_train.shape[0] == 5 * N_PER_FILE
    cifar10(root)  # second call: cached, no new download
    assert urls == [C.CIFAR10_URL]


class _BrokenStream(io.BytesIO):
    def read(self, size=-1):
        if self.tell() > 100:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(size, 64) if size and size > 0 else 64)


def test_interrupted_download_leaves_no_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "_open_url", lambda url, timeout: _BrokenStream(b"x" * 10_000))
    with pytest.raises(CIFAR10Error, match="could not download.*connection reset"):
        cifar10(tmp_path)
    assert list(tmp_path.iterdir()) == []  # the partial file was removed, no archive appeared


def test_corrupt_download_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "_open_url", lambda url, timeout: io.BytesIO(b"not an archive"))
    with pytest.raises(CIFAR10Error, match=f"corrupt: its MD5 is {hashlib.md5(b'not an archive').hexdigest()}"):
        cifar10(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_archive_missing_a_batch_file(tmp_path, monkeypatch):
    path = tmp_path / C.ARCHIVE_NAME
    make_archive(path, files=list(C.TRAIN_FILES))  # no test_batch.bin
    monkeypatch.setattr(C, "CIFAR10_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(CIFAR10Error, match="cannot be read"):
        cifar10(tmp_path)


def test_parse_records_rejects_bad_sizes_and_labels():
    raw, _, _ = make_records(2, 0)
    with pytest.raises(CIFAR10Error, match="multiple of the record size 3073"):
        C.parse_records(raw[:-1])
    with pytest.raises(CIFAR10Error, match="label 200 out of range"):
        C.parse_records(bytes([200]) + raw[1:])


@pytest.mark.parametrize("bad", [3, "", ["a"]])
def test_bad_root_raises_value_error(bad):
    with pytest.raises(ValueError, match="root must be a directory path"):
        cifar10(bad)


def test_data_module_reexports_the_loader(archive):
    import weightdecay as wd

    root, path, _ = archive
    assert wd.data.cifar10(root, download=False).path == path
