"""Reading survey files of any format, and :func:`read_survey` for a new country's survey.

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

The shared validation helpers here (:func:`require_columns`, :func:`check_income`)
are used by every loader so that bad input gets the same message everywhere:
the column, the number of offending rows, an example identifier and what to do,
or an explicit policy argument whose choice is written to the load report.
"""
from __future__ import annotations

import struct
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError, SpecError, describe_rows
from ..survey import LoadReport, SourceFile, Survey, SurveyMetadata, join_ids, text_cells, text_values

__all__ = ["read_table", "read_survey", "read_table_survey", "require_columns", "check_income", "check_duplicate_rows",
           "numeric_column", "ROLE_KEYS", "INCOME_POLICIES", "DUPLICATE_POLICIES", "ids_of"]

#: Keys accepted in a :func:`read_survey` spec.
ROLE_KEYS = ("weight", "strata", "psu", "fpc", "ssu", "fpc2", "unit", "size", "ids", "income", "remittances",
             "area", "sources", "metadata", "roles", "nest", "lonely_psu", "area_codes", "fractional_size")

#: Policies for negative / missing incomes and remittances above income.
INCOME_POLICIES = ("error", "zero", "keep")

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


def require_columns(df: pd.DataFrame, columns: Mapping[str, Any], what: str = "survey") -> None:
    """Raise :class:`InputError` naming every ``role -> column`` whose column is absent."""
    missing = [(k, c) for k, c in columns.items() if c is not None and c not in df.columns]
    if missing:
        desc = ", ".join(f"{k}={c!r}" for k, c in missing)
        raise InputError(f"{what}: column(s) not found: {desc}; available columns: "
                         f"{sorted(map(str, df.columns))[:60]}")


def ids_of(df: pd.DataFrame, ids) -> np.ndarray | None:
    """Row identifiers (joined with '-' for several id columns) for messages."""
    ids = [ids] if isinstance(ids, str) else list(ids or ())
    if not ids:
        return None
    if len(ids) == 1:
        return df[ids[0]].to_numpy()
    return join_ids(df, ids)


def numeric_column(df: pd.DataFrame, col: str, what: str, idv, report: LoadReport | None = None,
                   coerce_text: bool = False) -> tuple[pd.Series, LoadReport | None]:
    """Column ``col`` as floats; text that is not a number raises, or with ``coerce_text`` becomes missing.

    Parameters
    ----------
    df : DataFrame
    col : str
    what : str
        Role of the column, for the message (``"income"``, ``"weight"`` ...).
    idv : array, optional
        Row identifiers for the message.
    report : LoadReport, optional
        Extended with a ``"coerced"`` entry (count and example values) when text is coerced.
    coerce_text : bool
        ``False`` (default): :class:`InputError` listing the text values and rows.
        ``True``: the text cells become NaN (missing) and the report says how many and
        which values; the missing-value policy of the caller then applies.

    Returns
    -------
    (Series, LoadReport or None)
    """
    num, bad = text_cells(df[col])
    if bad.any():
        vals = text_values(df[col], bad)
        if not coerce_text:
            raise InputError(f"{what} column {col!r} has non-numeric values in {describe_rows(bad, idv)}: {vals}; "
                             "fix them (e.g. remove thousands separators), or pass coerce_text=True to treat "
                             "them as missing (counted in the load report)")
        if report is not None:
            report = report.add("coerced", f"{int(bad.sum())} non-numeric {what} values {vals} set to missing "
                                           "(coerce_text=True)", col, int(bad.sum()),
                                idv[bad][:3] if idv is not None else np.flatnonzero(bad)[:3])
    return num, report


def _policy(name: str, value: str, allowed=INCOME_POLICIES) -> str:
    if value not in allowed:
        raise InputError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_income(df: pd.DataFrame, report: LoadReport, *, income: str | None, remittances: str | None = None,
                 sources: Mapping[str, str] | None = None, ids=None, negative_income: str = "error",
                 missing_income: str = "error", remittances_exceed: str = "error",
                 coerce_text: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Validate the income and remittance columns, apply the policies and report.

    Parameters
    ----------
    df : DataFrame
        The data (not modified; a copy is returned when values change).
    report : LoadReport
        Report to extend.
    income, remittances : str, optional
        Column names (household or person income in the file's own period).
    sources : mapping, optional
        Other source columns: checked for non-numeric values and missing values
        (reported, never changed).
    ids : str or list of str, optional
        Identifier columns used in messages.
    negative_income : {"error", "zero", "keep"}
        Negative income or remittances: raise, set to 0, or keep (reported either way).
    missing_income : {"error", "zero", "keep"}
        Missing (NaN) income or remittances: raise, set to 0, or keep as NaN.
    remittances_exceed : {"error", "cap", "keep"}
        Remittances larger than income (impossible when remittances are a component of
        income; usually a unit or period mismatch): raise, cap at income, or keep.
    coerce_text : bool
        Text that is not a number in these columns (``"n/a"``, ``"1,873.50"``): raise
        (default, listing the values and rows), or with ``True`` treat it as missing and
        record a ``"coerced"`` load-report entry; ``missing_income`` then applies.

    Returns
    -------
    (DataFrame, LoadReport)
    """
    _policy("negative_income", negative_income)
    _policy("missing_income", missing_income)
    _policy("remittances_exceed", remittances_exceed, ("error", "cap", "keep"))
    idv = ids_of(df, ids)
    out = df
    changed = False
    for role, col in (("income", income), ("remittances", remittances)):
        if col is None:
            continue
        require_columns(df, {role: col})
        s, report = numeric_column(df, col, role, idv, report, coerce_text)
        miss = s.isna().to_numpy()
        if miss.any():
            msg = f"{role} column {col!r} is missing in {describe_rows(miss, idv)}"
            if missing_income == "error":
                raise InputError(msg + "; fill them, drop those rows explicitly, or pass missing_income='zero' or 'keep'")
            if missing_income == "zero":
                s = s.fillna(0.0)
                report = report.add("missing", f"{role} missing set to 0 (missing_income='zero')", col,
                                    int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
            else:
                report = report.add("missing", f"{role} missing kept as NaN (missing_income='keep')", col,
                                    int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
        neg = (s < 0).to_numpy()
        if neg.any():
            msg = f"{role} column {col!r} is negative in {describe_rows(neg, idv)}"
            if negative_income == "error":
                raise InputError(msg + "; pass negative_income='zero' (set to 0) or 'keep' to choose a policy")
            ex = idv[neg][:3] if idv is not None else np.flatnonzero(neg)[:3]
            if negative_income == "zero":
                s = s.where(~neg, 0.0)
                report = report.add("negative_income", f"negative {role} set to 0 (negative_income='zero')", col,
                                    int(neg.sum()), ex)
            else:
                report = report.add("negative_income", f"negative {role} kept (negative_income='keep')", col,
                                    int(neg.sum()), ex)
        zero = (s == 0).to_numpy()
        if role == "income" and zero.any():
            ex = idv[zero][:3] if idv is not None else np.flatnonzero(zero)[:3]
            report = report.add("zero_income", f"{int(zero.sum())} rows with zero income (kept)", col,
                                int(zero.sum()), ex)
        if not s.equals(df[col]):
            if not changed:
                out = df.copy()
                changed = True
            out[col] = s.to_numpy()
    if income is not None and remittances is not None:
        inc = out[income].to_numpy(dtype=float)
        rem = out[remittances].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            over = (rem > 0) & (rem > inc + 1e-9 * np.maximum(1.0, np.abs(inc)))
        if over.any():
            msg = (f"remittances column {remittances!r} is larger than income column {income!r} in "
                   f"{describe_rows(over, idv)}")
            if remittances_exceed == "error":
                raise InputError(msg + "; check units and periods, or pass remittances_exceed='cap' or 'keep'")
            ex = idv[over][:3] if idv is not None else np.flatnonzero(over)[:3]
            if remittances_exceed == "cap":
                if not changed:
                    out = df.copy()
                    changed = True
                out[remittances] = np.where(over, inc, rem)
                report = report.add("converted", "remittances capped at income (remittances_exceed='cap')",
                                    remittances, int(over.sum()), ex)
            else:
                report = report.add("remittances_exceed", "remittances larger than income kept "
                                    "(remittances_exceed='keep')", remittances, int(over.sum()), ex)
    for name, col in (sources or {}).items():
        if col is None or col in (income, remittances):
            continue
        require_columns(df, {f"source {name}": col})
        s, report = numeric_column(out, col, f"source {name}", idv, report, coerce_text)
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            if not changed:
                out = out.copy()
                changed = True
            out[col] = s.to_numpy()
        miss = s.isna().to_numpy()
        if miss.any():
            report = report.add("missing", f"income source {name!r} is missing (kept as NaN)", col,
                                int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
    return out, report


def report_duplicates(df: pd.DataFrame, ids, report: LoadReport) -> LoadReport:
    """Raise if the id columns do not identify rows uniquely."""
    ids = [ids] if isinstance(ids, str) else list(ids or ())
    if not ids:
        return report
    dup = df.duplicated(ids, keep=False).to_numpy()
    if dup.any():
        raise InputError(f"id column(s) {ids} are duplicated in {describe_rows(dup, ids_of(df, ids))}; "
                         "every row must have a unique identifier (remove genuine duplicates, or for ENIGH "
                         "decile splits use read_enigh which collapses them)")
    return report


#: Policies for exact duplicate rows.
DUPLICATE_POLICIES = ("error", "drop", "keep")


def check_duplicate_rows(df: pd.DataFrame, report: LoadReport, *, ids=None, weight: str | None = None,
                         duplicates: str = "error") -> tuple[pd.DataFrame, LoadReport]:
    """Refuse (or drop, or keep with a report entry) rows that are exact copies of another row.

    An exact copy (every column equal, weight included) is a data-handling error (a file
    appended twice, a bad merge), not a unit of the sample: counted twice it doubles that
    unit's weight. ENIGH decile splits are not exact copies (their ``factor`` and decile
    differ) and are handled by :func:`remitpov.io.read_enigh`.

    Parameters
    ----------
    df : DataFrame
    report : LoadReport
    ids : str or list of str, optional
        Identifier columns for the message.
    weight : str, optional
        Weight column: the weight carried by the extra copies is reported.
    duplicates : {"error", "drop", "keep"}
        ``"error"`` (default): :class:`InputError` naming the rows; ``"drop"``: keep the
        first of each set of copies (load-report entry ``"dropped"`` with the count and the
        weight removed); ``"keep"``: keep them all (entry ``"duplicates_kept"``), for data
        whose rows are genuinely distinct units with identical values.

    Returns
    -------
    (DataFrame, LoadReport)
    """
    _policy("duplicates", duplicates, DUPLICATE_POLICIES)
    extra = df.duplicated(keep="first").to_numpy()
    if not extra.any():
        return df, report
    every = df.duplicated(keep=False).to_numpy()
    idv = ids_of(df, ids)
    ex = idv[extra][:3] if idv is not None else np.flatnonzero(extra)[:3]
    wtxt = ""
    if weight is not None and weight in df.columns:
        wsum = float(pd.to_numeric(df.loc[extra, weight], errors="coerce").sum())
        wtxt = f" carrying weight {wsum:,.6g}"
    n = int(extra.sum())
    if duplicates == "error":
        raise InputError(f"exact duplicate rows: every column, weight included, is duplicated in "
                         f"{describe_rows(every, idv)} ({n} extra cop{'ies' if n != 1 else 'y'}{wtxt}); counted "
                         "twice they would double those units' weight: remove them, or pass duplicates='drop' to "
                         "keep one of each (reported), or duplicates='keep' if they are distinct units with "
                         "identical values")
    if duplicates == "drop":
        report = report.add("dropped", f"{n} exact duplicate rows dropped{wtxt} (duplicates='drop'); the first "
                                       "copy of each is kept", weight, n, ex)
        return df.loc[~extra].reset_index(drop=True), report
    report = report.add("duplicates_kept", f"{n} rows identical to another row kept as distinct units "
                                           "(duplicates='keep')", weight, n, ex)
    return df, report


# ---------------------------------------------------------------------------- read_survey
def _load_spec(spec) -> dict:
    if isinstance(spec, (str, Path)):
        p = Path(spec)
        if not p.exists():
            raise SpecError(f"spec file not found: {str(p)!r}")
        try:
            with open(p, "rb") as fh:
                spec = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"spec file {str(p)!r} is not valid TOML: {exc}") from None
        spec["_spec_path"] = str(p)
    if not isinstance(spec, Mapping):
        raise SpecError(f"spec must be a mapping of roles to columns or a TOML file path, got {type(spec).__name__}")
    return dict(spec)


def read_survey(source, spec, *, negative_income: str = "error", missing_income: str = "error",
                remittances_exceed: str = "error", coerce_text: bool = False, duplicates: str = "error",
                columns=None, **read_kwargs) -> Survey:
    """Build a :class:`~remitpov.survey.Survey` from any table plus a role mapping.

    This is how a user brings a new country's survey.

    Parameters
    ----------
    source : DataFrame or str or Path
        The data, or a CSV / Parquet / DTA / SAV / DBF file (format by extension).
        A DataFrame is copied, never modified.
    spec : mapping or str or Path
        Roles -> columns, as a dict or a TOML file. Keys (see :data:`ROLE_KEYS`):

        * ``weight`` (required): expansion factor of a row;
        * ``strata``, ``psu``, ``fpc``, ``ssu``, ``fpc2``: design columns;
          ``nest`` (bool): PSU codes repeat across strata; ``lonely_psu``: policy;
        * ``unit``: ``"household"`` (default) or ``"person"``; ``size``: household size column
          (whole numbers unless ``fractional_size = true``, which the load report records);
        * ``ids``: identifier column or list of columns (must be unique);
        * ``income``, ``remittances``, ``area``: columns;
          ``area_codes``: mapping of raw area codes to labels (e.g. ``{1 = "urban", 2 = "rural"}``);
        * ``sources``: table ``name -> column`` of income sources;
        * ``roles``: table of further named columns (names from :class:`remitpov.survey.Role`);
        * ``metadata``: table with ``name``, ``country``, ``year``, ``currency``,
          ``income_period`` (``"month"``, ``"quarter"`` or ``"year"``), ``notes``.

        TOML example (``fixtures/spec_example.toml``)::

            weight = "factor"
            strata = "est_dis"
            psu = "upm"
            size = "tot_integ"
            ids = ["folioviv", "foliohog"]
            income = "ing_cor"
            remittances = "remesas"
            [sources]
            labour = "ingtrab"
            [metadata]
            country = "MEX"
            year = 2018
            currency = "MXN"
            income_period = "quarter"

        ``data = "file.csv"`` in a TOML spec names the data file (relative to the spec)
        when ``source`` is None.
    negative_income, missing_income, remittances_exceed : str
        Policies of :func:`check_income` (default: raise).
    coerce_text : bool
        Text in the income, remittance and source columns: raise (default) or treat as
        missing with a load-report entry (see :func:`check_income`).
    duplicates : {"error", "drop", "keep"}
        Rows that are exact copies of another row (see :func:`check_duplicate_rows`).
    columns : sequence of str, optional
        Keep only these columns (each must exist; exact duplicate rows are judged on all
        columns as read, before this selection).
    **read_kwargs
        Passed to :func:`read_table`.

    Returns
    -------
    Survey
        ``metadata.loader = "read_survey"``; every change is in ``survey.report``.

    Raises
    ------
    InputError
        Unknown role keys or columns, bad weights/design/sizes, duplicated ids,
        missing or negative incomes (unless a policy is given), unknown file format.
    """
    spec = _load_spec(spec)
    spec_path = spec.pop("_spec_path", None)
    data_entry = spec.pop("data", None)
    unknown = [k for k in spec if k not in ROLE_KEYS]
    if unknown:
        raise InputError(f"unknown key(s) in the survey spec: {unknown}; allowed keys: {list(ROLE_KEYS)}")
    if "weight" not in spec:
        raise InputError("the survey spec needs a 'weight' key naming the expansion-factor column")
    report = LoadReport()
    files: tuple[SourceFile, ...] = ()
    if source is None and data_entry is not None:
        source = Path(data_entry)
        if spec_path is not None and not source.is_absolute():
            source = Path(spec_path).parent / source
    if isinstance(source, pd.DataFrame):
        if len(source) == 0:
            raise InputError(f"the DataFrame has no rows: expected at least one row, found 0 rows and "
                             f"{source.shape[1]} column(s)")
        df = source.copy()
        report = report.add("read", f"{len(df)} rows x {df.shape[1]} columns from a DataFrame (copied)", rows=len(df))
    elif isinstance(source, (str, Path)):
        df, src, report = read_table(source, report=report, **read_kwargs)
        files = (src,)
    else:
        raise InputError(f"source must be a DataFrame or a file path, got {type(source).__name__}")
    if spec_path is not None:
        files = files + (SourceFile.from_path(spec_path),)

    ids = spec.get("ids") or ()
    ids = [ids] if isinstance(ids, str) else list(ids)
    sources = dict(spec.get("sources") or {})
    roles = dict(spec.get("roles") or {})
    for r in ("income", "remittances", "area"):
        if spec.get(r) is not None:
            roles[r] = spec[r]
    cols = {"weight": spec["weight"]}
    for k in ("strata", "psu", "fpc", "ssu", "fpc2", "size"):
        if spec.get(k) is not None:
            cols[k] = spec[k]
    cols.update({f"ids[{i}]": c for i, c in enumerate(ids)})
    cols.update(roles)
    cols.update({f"sources.{k}": v for k, v in sources.items()})
    bad_types = [k for k, v in cols.items() if not isinstance(v, str)]
    if bad_types:
        raise InputError(f"spec key(s) {bad_types} must name a column (a string)")
    require_columns(df, cols, "read_survey spec")
    # exact copies are judged on the rows as read (a subset of columns can repeat legitimately)
    df, report = check_duplicate_rows(df, report, ids=ids, weight=spec["weight"], duplicates=duplicates)
    if columns is not None:
        require_columns(df, {f"columns[{i}]": c for i, c in enumerate(columns)}, "read_survey columns")
        df = df[list(columns)]
    report = report_duplicates(df, ids, report)

    if spec.get("area_codes") is not None and "area" in roles:
        codes = {str(k): v for k, v in dict(spec["area_codes"]).items()}
        raw = df[roles["area"]]
        # map the distinct values, not the rows: integral numbers as "1" (1, 1.0 -> "1"), others str()
        inv, uniq = pd.factorize(raw, use_na_sentinel=False)
        keys = np.array([str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v)
                         and float(v).is_integer() else str(v) for v in uniq], dtype=object)
        lab = pd.Series(keys[inv] if len(uniq) else np.array([], dtype=object), index=df.index).map(codes)
        bad = lab.isna().to_numpy()
        if bad.any():
            unknown = sorted(set(keys[inv[bad]]))
            raise InputError(f"area column {roles['area']!r} has codes {unknown[:10]} not in area_codes "
                             f"{sorted(codes)} in {describe_rows(bad, ids_of(df, ids))}; add them to area_codes "
                             "in the spec or recode the column")
        df["area"] = lab.to_numpy()
        report = report.add("converted", f"area codes of {roles['area']!r} recoded to labels {codes} in column "
                                         "'area'", "area", len(df))
        roles["area"] = "area"

    df, report = check_income(df, report, income=roles.get("income"), remittances=roles.get("remittances"),
                              sources=sources, ids=ids, negative_income=negative_income,
                              missing_income=missing_income, remittances_exceed=remittances_exceed,
                              coerce_text=coerce_text)
    meta_in = dict(spec.get("metadata") or {})
    unknown_meta = [k for k in meta_in if k not in ("name", "country", "year", "currency", "income_period",
                                                     "weight_unit", "notes")]
    if unknown_meta:
        raise InputError(f"unknown metadata key(s) {unknown_meta} in the survey spec")
    period = meta_in.get("income_period")
    if period is not None and period not in ("month", "quarter", "year"):
        raise InputError(f"metadata income_period must be 'month', 'quarter' or 'year', got {period!r}")
    unit = spec.get("unit", "household")
    meta = SurveyMetadata(
        name=str(meta_in.get("name", "survey")), country=meta_in.get("country"), year=meta_in.get("year"),
        currency=meta_in.get("currency"), income_period=period,
        weight_unit=meta_in.get("weight_unit", unit), files=files, loader="read_survey",
        notes=tuple(meta_in.get("notes", ())),
    )
    return Survey(df, weight=spec["weight"], strata=spec.get("strata"), psu=spec.get("psu"), fpc=spec.get("fpc"),
                  ssu=spec.get("ssu"), fpc2=spec.get("fpc2"), unit=unit, size=spec.get("size"), ids=tuple(ids),
                  roles=roles, sources=sources, metadata=meta, report=report, nest=bool(spec.get("nest", False)),
                  lonely_psu=spec.get("lonely_psu", "error"), fractional_size=bool(spec.get("fractional_size", False)))


def read_table_survey(path, *, weight: str, unit: str = "household", strata: str | None = None,
                      psu: str | None = None, fpc: str | None = None, size: str | None = None, ids=(),
                      roles: Mapping[str, str] | None = None, sources: Mapping[str, str] | None = None,
                      name: str | None = None, nest: bool = False, lonely_psu: str = "error",
                      income_period: str | None = None, columns=None, duplicates: str = "error",
                      coerce_text: bool = False) -> Survey:
    """Read a file into a Survey with its columns named as options, values unchanged (format ``"table"``).

    The generic format of chapter specs and ``reproduce`` targets, meant for documented
    reference computations (e.g. published-figure targets). It is :func:`read_survey`
    with the roles given as keyword options and the policies that change no value:
    negative or missing incomes and remittances above income are kept (each recorded in
    the load report). Everything :func:`read_table` and :func:`read_survey` verify still
    applies (complete files, text in numeric columns, exact duplicate rows, weights,
    design columns).

    Parameters
    ----------
    path : str or Path
        CSV (optionally compressed), Parquet, Stata, SPSS or dBase file.
    weight, unit, strata, psu, fpc, size, ids, roles, sources, nest, lonely_psu
        As in :class:`~remitpov.survey.Survey`.
    name : str, optional
        Survey name (default: the file name without extension).
    income_period : {"month", "quarter", "year"}, optional
        Period of the income columns (metadata).
    columns : sequence of str, optional
        Keep only these columns.
    duplicates, coerce_text
        As in :func:`read_survey`.

    Returns
    -------
    Survey
        ``metadata.loader = "table"``.
    """
    p = Path(path)
    spec = {"weight": weight, "unit": unit, "strata": strata, "psu": psu, "fpc": fpc, "size": size,
            "ids": list(ids), "roles": dict(roles or {}), "sources": dict(sources or {}), "nest": nest,
            "lonely_psu": lonely_psu, "metadata": {"name": name or p.stem, "income_period": income_period}}
    s = read_survey(p, {k: v for k, v in spec.items() if v is not None}, negative_income="keep",
                    missing_income="keep", remittances_exceed="keep", coerce_text=coerce_text,
                    duplicates=duplicates, columns=columns)
    return s.replace(metadata=replace(s.metadata, loader="table"))
