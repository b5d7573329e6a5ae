"""Reading a data file of any supported format completely (:func:`read_table`), the
one reader behind every loader and :func:`remitpov.io.generic.read_survey`.

File formats are chosen by extension (case-insensitive):

========================  =================================================
``.csv``, ``.csv.gz``,    :func:`pandas.read_csv`
``.txt``, ``.tsv``
``.parquet``, ``.pq``     :func:`pandas.read_parquet` (pyarrow)
``.dta``                  Stata, :func:`pyreadstat.read_dta`
``.sav``, ``.zsav``       SPSS, :func:`pyreadstat.read_sav`
``.dbf``                  dBase, ``dbfread`` (encoding from the file header, falling
                          back to UTF-8 then Latin-1; the choice is reported)
========================  =================================================

Anything else raises :class:`~remitpov.exceptions.InputError`.

A file that cannot be read completely (cut, compressed stream incomplete, a CSV ending
mid-row, a header without rows) is an :class:`~remitpov.exceptions.InputError` naming the
file, what was expected and what was found; the reader used and the file's sha256 go to
the load report.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..survey import LoadReport, SourceFile

__all__ = ["read_table", "file_format"]

_FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
    ".dta": "dta", ".sav": "sav", ".zsav": "sav", ".dbf": "dbf",
}
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


def file_format(path) -> str:
    """Format name of ``path`` from its extension; :class:`InputError` if unknown."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED and len(suffixes) >= 2:
        ext = suffixes[-2]
        if _FORMATS.get(ext) not in ("csv", "tsv"):
            raise InputError(f"unknown or unsupported file format for {str(p)!r}: compressed files are only "
                             "supported for CSV (.csv.gz ...)")
    else:
        ext = suffixes[-1] if suffixes else ""
    if ext not in _FORMATS:
        raise InputError(f"unknown file format {ext or '(no extension)'!r} for {str(p)!r}; supported: "
                         ".csv/.csv.gz/.txt/.tsv, .parquet, .dta (Stata), .sav (SPSS), .dbf (dBase)")
    return _FORMATS[ext]


#: dBase version bytes (first byte of the file) that dbfread can read.
_DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xF5, 0xFB})


def _dbf_layout(path: Path) -> tuple[int, int, int, int]:
    """Check a dBase file's header against its size; return (records, deleted, header bytes, record bytes).

    The header (first 32 bytes) declares the number of records, the header length and
    the record length, so the exact size of the data is known before anything is read:
    ``header + records x record length`` bytes, optionally followed by one end-of-file
    byte ``0x1A``. A shorter file was cut (the message says after how many complete
    records and whether it ends mid-record); a longer one holds data the header does
    not declare. Deleted records (first byte ``*``) are skipped by dbfread; they are
    counted here so that the rows read can be checked exactly.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            raise InputError(f"{str(path)!r} is not a complete dBase file: expected a header of at least 32 bytes, "
                             f"found {size} bytes (the file is truncated or empty)")
        version = head[0]
        n_rec, h_len, r_len = np.frombuffer(head[4:12], dtype="<u4,<u2,<u2")[0].tolist()
        if version not in _DBF_VERSIONS or h_len < 33 or r_len < 1:
            raise InputError(f"{str(path)!r} is not a dBase (.dbf) file: expected a dBase header (version byte "
                             f"0x03, 0x30, 0x83 ..., header >= 33 bytes, record length >= 1), found version byte "
                             f"0x{version:02X}, header {h_len} bytes, record length {r_len}; check the file or its "
                             "extension")
        if size < h_len:
            raise InputError(f"{str(path)!r}: dBase header truncated: the header declares {h_len} bytes, the file "
                             f"has only {size} bytes; obtain a complete copy of the file")
        fields = fh.read(h_len - 32)
    # field descriptors are 32 bytes each, ended by 0x0D
    if 0x0D not in fields[::32]:
        raise InputError(f"{str(path)!r} is not a valid dBase file: expected the field descriptors to end with "
                         "byte 0x0D, found none; the header is corrupt or the file is not dBase")
    expected = h_len + n_rec * r_len
    if size < expected:
        data = size - h_len
        full, part = divmod(data, r_len)
        cut = f" and {part} bytes of a partial record (the file ends mid-record)" if part else ""
        raise InputError(f"{str(path)!r} is truncated: its header declares {n_rec:,} records of {r_len} bytes "
                         f"({expected:,} bytes with the header), the file has {size:,} bytes = {full:,} complete "
                         f"records{cut}; obtain a complete copy of the file (loading the part would give wrong "
                         "totals)")
    if size > expected + 1:
        raise InputError(f"{str(path)!r}: its header declares {n_rec:,} records of {r_len} bytes ({expected:,} "
                         f"bytes with the header), but the file has {size:,} bytes; records beyond the declared "
                         "count would be ignored: repair the header's record count or re-export the file")
    deleted = 0
    if n_rec:
        first = np.fromfile(path, dtype=np.uint8, count=n_rec * r_len, offset=h_len).reshape(n_rec, r_len)[:, 0]
        deleted = int(np.count_nonzero(first == ord("*")))
    return int(n_rec), deleted, int(h_len), int(r_len)


def _read_dbf(path: Path) -> tuple[pd.DataFrame, str, int]:
    """Read a dBase file, checking the rows read against the header; returns (data, encoding, deleted)."""
    from dbfread import DBF

    n_rec, deleted, _h, _r = _dbf_layout(path)
    last = None
    for enc in (None, "utf-8", "latin-1"):
        try:
            table = DBF(str(path), encoding=enc, char_decode_errors="strict")
            df = pd.DataFrame(iter(table), columns=table.field_names)
            break
        except UnicodeDecodeError as exc:  # try the next encoding
            last = exc
        except (ValueError, EOFError, struct.error, KeyError, IndexError) as exc:
            raise InputError(f"{str(path)!r}: cannot read the dBase records ({type(exc).__name__}: {exc}); "
                             "the file is corrupt") from None
    else:  # pragma: no cover - latin-1 never fails
        raise InputError(f"cannot decode text fields of {str(path)!r}: {last}")
    width = 1 + sum(f.length for f in table.fields)  # deletion flag + fields, as dbfread reads them
    if width != table.header.recordlen:
        raise InputError(f"{str(path)!r}: the field descriptors add up to {width} bytes per record but the header "
                         f"declares records of {table.header.recordlen} bytes; the header is corrupt (records would "
                         "be read misaligned): obtain a sound copy of the file")
    if len(df) != n_rec - deleted:
        raise InputError(f"{str(path)!r}: expected {n_rec - deleted:,} records (header {n_rec:,}, {deleted} marked "
                         f"deleted), read {len(df):,}; the file is corrupt")
    return df, table.encoding, deleted


def _open_text_tail(p: Path, compression: str | None, nbytes: int = 1 << 16) -> bytes:
    """The last ``nbytes`` of the (decompressed) file, decompressing it completely."""
    import bz2
    import gzip
    import lzma

    openers = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    if compression is None:
        with open(p, "rb") as fh:
            fh.seek(max(0, p.stat().st_size - nbytes))
            return fh.read()
    if compression not in openers:  # zip / zstd: pandas checked the stream
        return b""
    tail = b""
    with openers[compression](p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):  # loop over 1 MiB blocks, not rows
            tail = (tail + chunk)[-nbytes:]
    return tail


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}


def _short_rows(p: Path, ncols: int, sep: str, encoding: str | None) -> tuple[int, list[str]]:
    """Rows of a delimited file with fewer fields than the header: (count, first texts).

    pandas fills such rows with missing values without a word; pyarrow's CSV reader
    reports them to a handler. Any failure of this second reader (an encoding or quoting
    it cannot follow) returns ``(0, [])``: the check is skipped, pandas' reading stands.
    """
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        found: list[str] = []

        def handler(row):
            if row.actual_columns < row.expected_columns:
                found.append(row.text)
            return "skip"

        names = [f"c{i}" for i in range(ncols)]
        reader = pacsv.open_csv(
            p, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=encoding or "utf8"),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}))
        for _batch in reader:  # streamed in blocks (not a loop over rows)
            pass
    except Exception:  # noqa: BLE001 - the validator is best effort, see the docstring
        return 0, []
    return len(found), found[:3]


def _read_csv(p: Path, sep: str, encoding: str | None, **kwargs) -> pd.DataFrame:
    """pandas.read_csv with every failure turned into an :class:`InputError` naming the file,
    and a check that the file does not end in the middle of a row."""
    import csv
    import zlib

    compression = _COMPRESSION.get(p.suffix.lower())
    try:
        df = pd.read_csv(p, sep=sep, encoding=encoding, **kwargs)
    except pd.errors.EmptyDataError:
        raise InputError(f"{str(p)!r} is empty: expected a header line with column names and data rows, found "
                         "no data at all") from None
    except (EOFError, zlib.error, OSError) as exc:
        raise InputError(f"{str(p)!r}: the {compression or 'file'} stream is incomplete or corrupt "
                         f"({type(exc).__name__}: {exc}); expected a complete file, obtain a complete copy") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{str(p)!r}: cannot parse as delimited text ({exc}); check the separator and quoting, "
                         "or whether the file was cut short") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{str(p)!r}: text is not in encoding {encoding or 'utf-8'!r} ({exc}); pass "
                         "encoding='latin-1' (or the file's encoding)") from None
    tail = _open_text_tail(p, compression)
    if tail and not tail.endswith((b"\n", b"\r")) and df.shape[1] > 1:
        last = tail.rsplit(b"\n", 1)[-1].decode("latin-1")
        fields = next(csv.reader([last], delimiter=sep), [])
        if len(fields) < df.shape[1]:
            raise InputError(f"{str(p)!r} ends in the middle of a row: expected {df.shape[1]} fields in the last "
                             f"line, found {len(fields)} ({last[:60]!r}); the file was cut short, obtain a "
                             "complete copy")
    # rows with too few fields end with missing values in the last column: only then is the
    # file scanned again to tell them from genuinely missing values
    if df.shape[1] > 1 and set(kwargs) <= {"dtype"} and df.iloc[:, -1].isna().any():
        n_short, texts = _short_rows(p, df.shape[1], sep, encoding)
        if n_short:
            raise InputError(f"{str(p)!r}: {n_short} row{'s have' if n_short != 1 else ' has'} fewer fields than "
                             f"the header's {df.shape[1]} (e.g. {[t[:60] for t in texts]}); read as they are, the "
                             "missing fields would become missing values: fix the file (a lost separator or a "
                             "cut line)")
    return df


def read_table(path, *, encoding: str | None = None, report: LoadReport | None = None,
               **kwargs) -> tuple[pd.DataFrame, SourceFile, LoadReport]:
    """Read a data file by extension, verifying that it was read completely.

    Parameters
    ----------
    path : str or Path
        The file. See the module docstring for formats.
    encoding : str, optional
        Text encoding for CSV files.
    report : LoadReport, optional
        Report to extend (a new one by default).
    **kwargs
        Passed to the pandas / pyreadstat reader.

    Returns
    -------
    (DataFrame, SourceFile, LoadReport)
        The data, the file's provenance (sha256) and the report (records the reader used).

    Raises
    ------
    InputError
        Unknown format, missing file, and every file that cannot be read completely:
        a dBase file whose size disagrees with the record count in its header (cut
        after some records, mid-record, in the header) or that is not dBase at all; a
        compressed CSV whose stream is incomplete; a CSV ending in the middle of a row;
        an empty file; a file with a header but no data rows. The message names the
        file, what was expected and what was found.
    """
    report = LoadReport() if report is None else report
    p = Path(path)
    fmt = file_format(p)
    if not p.exists():
        raise InputError(f"file not found: {str(p)!r}")
    if p.is_dir():
        raise InputError(f"{str(p)!r} is a folder: expected a {fmt} file")
    deleted = 0
    if fmt in ("csv", "tsv"):
        sep = "\t" if fmt == "tsv" else kwargs.pop("sep", ",")
        df = _read_csv(p, sep, encoding, **kwargs)
        how = "pandas.read_csv"
    elif fmt == "dbf":
        df, enc, deleted = _read_dbf(p)
        how = f"dbfread (encoding {enc})"
    else:
        try:
            if fmt == "parquet":
                df = pd.read_parquet(p, **kwargs)
                how = "pandas.read_parquet"
            else:
                import pyreadstat

                reader = pyreadstat.read_dta if fmt == "dta" else pyreadstat.read_sav
                df, _meta = reader(str(p), **kwargs)
                how = f"pyreadstat.read_{fmt}"
        except TypeError:  # a wrong keyword argument: a programming/usage error, shown as is
            raise
        except Exception as exc:  # pyreadstat.ReadstatError, pyarrow.ArrowInvalid, OSError ...
            raise InputError(f"{str(p)!r}: cannot read as {fmt} ({type(exc).__name__}: {exc}); expected a complete "
                             f"{fmt} file: check the file or its extension") from None
    if len(df) == 0:
        raise InputError(f"{str(p)!r} has no data rows: expected at least one row, found a header with "
                         f"{df.shape[1]} column(s) and 0 rows")
    src = SourceFile.from_path(p)
    report = report.add("read", f"read {len(df)} rows x {df.shape[1]} columns from {p.name} with {how} "
                                f"(sha256 {src.sha256[:12]}...)", rows=len(df))
    if deleted:
        report = report.add("skipped", f"{deleted} dBase records marked deleted were not read", rows=deleted)
    return df, src, report
