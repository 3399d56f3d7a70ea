"""CIFAR-10 from the official *binary* archive: checksummed, downloaded atomically, no pickle.

The archive ``cifar-10-binary.tar.gz`` (Krizhevsky 2009) holds six files in
``cifar-10-batches-bin/``: ``data_batch_1.bin`` … ``data_batch_5.bin`` (10 000 images each)
and ``test_batch.bin``.  Every record is 3073 bytes: one label byte (0–9) followed by the
32×32 image as 1024 red, then 1024 green, then 1024 blue bytes, each channel row-major.

:func:`cifar10` looks for the archive in the data directory (the ``root`` argument, else the
environment variable ``WEIGHTDECAY_DATA``, else ``~/.cache/weightdecay``), downloads it if
it is missing and ``download=True``, checks its MD5 against the published checksum before
reading a single record, and parses the records with NumPy.  The pickled "python version"
of CIFAR-10 is never used: unpickling a downloaded file can run arbitrary code.

A download is written to a temporary file in the same directory and renamed with
``os.replace`` only once it is complete and its checksum matches, so an interrupted or
corrupt download never leaves a file that looks like the archive.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "ARCHIVE_NAME",
    "CLASSES",
    "CIFAR10Error",
    "CIFAR10",
    "data_dir",
    "md5sum",
    "download_archive",
    "parse_records",
    "cifar10",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
#: The MD5 published on the CIFAR-10 page for ``cifar-10-binary.tar.gz``.
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
ARCHIVE_NAME = "cifar-10-binary.tar.gz"
ENV_VAR = "WEIGHTDECAY_DATA"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"{_FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = f"{_FOLDER}/test_batch.bin"
RECORD_BYTES = 1 + 3 * 32 * 32


class CIFAR10Error(RuntimeError):
    """The CIFAR-10 archive is missing, cannot be downloaded, or is corrupt.

    Its message says what to do.

    Examples
    --------
    >>> from weightdecay.cifar10 import CIFAR10Error, parse_records
    >>> try:
    ...     parse_records(bytes(10))  # ten zero bytes
    ... except CIFAR10Error as exc:
    ...     print(exc)
    batch: size 10 bytes is not a positive multiple of the record size 3073
    >>> issubclass(CIFAR10Error, RuntimeError)
    True
    """


@dataclass(frozen=True)
class CIFAR10:
    """CIFAR-10 as arrays: ``X_*`` uint8 ``(N, 3, 32, 32)``, ``y_*`` int64 labels in 0..9.

    Made by :func:`cifar10`.

    Parameters
    ----------
    X_train : uint8 array of shape (50000, 3, 32, 32)
        Training images, channels first (red, green, blue).
    y_train : int64 array of shape (50000,)
        Training labels, indices into ``classes``.
    X_test : uint8 array of shape (10000, 3, 32, 32)
        Test images.
    y_test : int64 array of shape (10000,)
        Test labels.
    path : pathlib.Path
        The archive the arrays were read from.
    classes : tuple of str
        The class names, ``CLASSES``.
    name : str
        A name for printing.

    Attributes
    ----------
    train : tuple
        ``(X_train, y_train)``.
    test : tuple
        ``(X_test, y_test)``.

    Examples
    --------
    A stand-in with four blank images (the real one comes from :func:`cifar10`):

    >>> import numpy as np
    >>> from pathlib import Path
    >>> from weightdecay.cifar10 import CIFAR10
    >>> images, labels = np.zeros((4, 3, 32, 32), dtype=np.uint8), np.array([0, 1, 8, 9])
    >>> data = CIFAR10(images[:2], labels[:2], images[2:], labels[2:], Path("cifar-10-binary.tar.gz"))
    >>> data
    CIFAR10(train (2, 3, 32, 32), test (2, 3, 32, 32), from 'cifar-10-binary.tar.gz')
    >>> [data.classes[k] for k in data.test[1]]
    ['ship', 'truck']
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    path: Path
    classes: tuple[str, ...] = CLASSES
    name: str = "CIFAR-10"

    @property
    def train(self):
        return self.X_train, self.y_train

    @property
    def test(self):
        return self.X_test, self.y_test

    def __repr__(self) -> str:
        return f"CIFAR10(train {self.X_train.shape}, test {self.X_test.shape}, from {str(self.path)!r})"


def data_dir(root=None) -> Path:
    """The directory of the book's data: ``root``, else ``$WEIGHTDECAY_DATA``, else ``~/.cache/weightdecay``.

    Parameters
    ----------
    root : str or os.PathLike, optional
        The directory; ``~`` is expanded.  It need not exist.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    ValueError
        If ``root`` is not a non-empty path.

    Examples
    --------
    >>> from pathlib import Path
    >>> from weightdecay.cifar10 import data_dir
    >>> data_dir("~/data") == Path.home() / "data"
    True
    >>> data_dir("/srv/book-data").name
    'book-data'
    """
    if root is None:
        root = os.environ.get(ENV_VAR) or Path.home() / ".cache" / "weightdecay"
    if not isinstance(root, (str, os.PathLike)) or str(root) == "":
        raise ValueError(f"root must be a directory path (str or os.PathLike); got {root!r}")
    return Path(root).expanduser()


def md5sum(path, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 digest of a file, read in chunks.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    chunk_size : int
        Bytes read at a time.

    Returns
    -------
    str
        The 32 hexadecimal digits of the digest.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from weightdecay.cifar10 import md5sum
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "abc.txt"
    ...     _ = path.write_bytes(b"abc")
    ...     print(md5sum(path))
    900150983cd24fb0d6963f7d28e17f72
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _what_to_do(path: Path) -> str:
    return (
        f"Download {CIFAR10_URL} on a machine with internet access, check that its MD5 is "
        f"{CIFAR10_MD5}, and place it at {path} (or point the environment variable {ENV_VAR} "
        f"to the directory that holds {ARCHIVE_NAME})."
    )


def _open_url(url: str, timeout: float):
    """Open ``url`` for reading (a separate function so that tests can replace it)."""
    return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (fixed https URL)


def download_archive(dest, *, url: str = CIFAR10_URL, expected_md5: str | None = None,
                     timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically and verify its MD5.

    The bytes go to a temporary file in ``dest``'s directory; only when the download is
    complete and the checksum equals ``expected_md5`` (default: :data:`CIFAR10_MD5`) is it
    renamed to ``dest`` with ``os.replace`` (atomic on one file system).  On any failure the
    temporary file is removed and :class:`CIFAR10Error` is raised; ``dest`` is untouched.

    Parameters
    ----------
    dest : str or os.PathLike
        Where the file goes; its directory is created if needed.
    url : str
        The source (anything ``urllib.request.urlopen`` reads, ``file://`` included).
    expected_md5 : str, optional
        The hex MD5 the download must have (default :data:`CIFAR10_MD5`).
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    CIFAR10Error
        If the download fails or its MD5 differs from ``expected_md5``.

    Examples
    --------
    A local ``file://`` URL stands in for the web here (the real archive is 170 MB):

    >>> import tempfile
    >>> from pathlib import Path
    >>> from weightdecay.cifar10 import CIFAR10Error, download_archive, md5sum
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     source = Path(tmp) / "source.bin"
    ...     _ = source.write_bytes(b"abc")
    ...     dest = Path(tmp) / "data" / "copy.bin"
    ...     print(download_archive(dest, url=source.as_uri(), expected_md5=md5sum(source)).read_bytes())
    ...     try:
    ...         download_archive(Path(tmp) / "bad.bin", url=source.as_uri(), expected_md5="0" * 32)
    ...     except CIFAR10Error:
    ...         print("corrupt; left behind:", (Path(tmp) / "bad.bin").exists())
    b'abc'
    corrupt; left behind: False

    The real download needs the network, so it is not run as a doctest:

    >>> download_archive(Path.home() / ".cache" / "weightdecay" / "cifar-10-binary.tar.gz")  # doctest: +SKIP
    """
    dest = Path(dest)
    expected_md5 = CIFAR10_MD5 if expected_md5 is None else expected_md5
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out:
            with _open_url(url, timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != expected_md5:
            raise CIFAR10Error(
                f"the download from {url} is corrupt: its MD5 is {got}, expected {expected_md5}. "
                + _what_to_do(dest)
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise CIFAR10Error(
            f"could not download {ARCHIVE_NAME} from {url} ({exc}); no internet access? " + _what_to_do(dest)
        ) from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def parse_records(raw: bytes, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
    """Parse CIFAR-10 binary records into images ``(N, 3, 32, 32)`` uint8 and labels int64.

    Parameters
    ----------
    raw : bytes
        Whole records of 3073 bytes: a label byte, then 1024 red, 1024 green and 1024 blue
        bytes, each channel row by row.
    name : str
        Named in error messages (e.g. the file in the archive).

    Returns
    -------
    images : uint8 array of shape (N, 3, 32, 32)
        The images, channels first.
    labels : int64 array of shape (N,)
        The labels in ``0..9``.

    Raises
    ------
    CIFAR10Error
        If ``raw`` is empty or not a whole number of records, or a label is above 9.

    Examples
    --------
    Two synthetic records whose red, green and blue channels are 0, 100 and 200:

    >>> import numpy as np
    >>> from weightdecay.cifar10 import parse_records
    >>> channels = np.repeat(np.array([0, 100, 200], dtype=np.uint8), 1024)
    >>> raw = bytes([3]) + channels.tobytes() + bytes([7]) + channels.tobytes()
    >>> images, labels = parse_records(raw)
    >>> images.shape, images.dtype, labels.tolist()
    ((2, 3, 32, 32), dtype('uint8'), [3, 7])
    >>> images[1, :, 31, 31].tolist()  # the last pixel of the second image
    [0, 100, 200]
    """
    if len(raw) == 0 or len(raw) % RECORD_BYTES:
        raise CIFAR10Error(f"{name}: size {len(raw)} bytes is not a positive multiple of the record size {RECORD_BYTES}")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= len(CLASSES):
        raise CIFAR10Error(f"{name}: label {int(labels.max())} out of range 0..9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return images, labels


def cifar10(root=None, download: bool = True) -> CIFAR10:
    """Load CIFAR-10 (50 000 training and 10 000 test images) from the binary archive.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Directory that holds (or will hold) ``cifar-10-binary.tar.gz``; default
        ``$WEIGHTDECAY_DATA``, else ``~/.cache/weightdecay``.
    download : bool
        Download the archive if it is not there (to a temporary file, renamed when complete).

    Returns
    -------
    CIFAR10
        ``X_train`` ``(50000, 3, 32, 32)`` uint8, ``y_train`` int64, ``X_test``, ``y_test``.

    Raises
    ------
    CIFAR10Error
        If the archive is missing and cannot be downloaded, or its MD5 is not
        :data:`CIFAR10_MD5`; the message says what to do.

    Examples
    --------
    Without the archive and with ``download=False`` it says what to do:

    >>> import tempfile
    >>> from weightdecay.cifar10 import CIFAR10Error, cifar10
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         cifar10(empty, download=False)
    ...     except CIFAR10Error as exc:
    ...         print("download=False" in str(exc), "cs.toronto.edu" in str(exc))
    True True

    Loading the real data downloads the archive on first use, which needs the network, so
    these lines are not run as doctests:

    >>> data = cifar10()  # doctest: +SKIP
    >>> data.X_train.shape, data.y_train.shape, data.X_test.shape  # doctest: +SKIP
    ((50000, 3, 32, 32), (50000,), (10000, 3, 32, 32))
    """
    path = data_dir(root) / ARCHIVE_NAME
    if not path.exists():
        if not download:
            raise CIFAR10Error(f"{path} does not exist and download=False. " + _what_to_do(path))
        download_archive(path)
    got = md5sum(path)
    if got != CIFAR10_MD5:
        raise CIFAR10Error(
            f"{path} is corrupt or not the CIFAR-10 binary archive: its MD5 is {got}, expected "
            f"{CIFAR10_MD5}. Delete it and run again to download it, or replace it. " + _what_to_do(path)
        )
    parts = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in (*TRAIN_FILES, TEST_FILE):
                f = tar.extractfile(member)  # read in memory: nothing is extracted to disk
                if f is None:
                    raise KeyError(member)
                parts[member] = parse_records(f.read(), member)
    except (KeyError, tarfile.TarError, EOFError, OSError) as exc:
        raise CIFAR10Error(f"{path} has the right checksum but cannot be read ({exc})") from exc
    X_train = np.concatenate([parts[m][0] for m in TRAIN_FILES])
    y_train = np.concatenate([parts[m][1] for m in TRAIN_FILES])
    X_test, y_test = parts[TEST_FILE]
    return CIFAR10(X_train, y_train, X_test, y_test, path)
