"""read_table verifies what it read (issue #9 item 1): truncated, corrupt and empty files.

Every bad file is built here from the real ENIGH Aguascalientes DBF or the EU-SILC
gzip (copied into ``tmp_path``, never modified in place) or from synthetic bytes; each
must give an :class:`InputError` naming the file, what was expected and what was found.
"""
import gzip
import struct

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError
from remitpov.io import read_enigh, read_survey
from remitpov.io.generic import read_table

AGS = ("data", "enigh2018_ags", "ConcAguascalientes.dbf")


@pytest.fixture(scope="module")
def dbf_bytes(shared):
    return shared(*AGS).read_bytes()


def _layout(b):
    n, h, r = struct.unpack("<IHH", b[4:12])
    return n, h, r


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_real_dbf_header_matches(dbf_bytes):
    n, h, r = _layout(dbf_bytes)
    assert (n, len(dbf_bytes)) == (2315, h + n * r)  # the file is complete: the check is exact


def test_dbf_cut_after_1500_records(dbf_bytes, tmp_path):
    n, h, r = _layout(dbf_bytes)
    p = _write(tmp_path, "ConcAguascalientes.dbf", dbf_bytes[: h + 1500 * r])
    with pytest.raises(InputError, match=r"ConcAguascalientes\.dbf.*truncated.*2,315 records.*1,500 complete records"):
        read_table(p)
    # the loader, too (before the fix: 1,494 households loaded silently)
    with pytest.raises(InputError, match="truncated"):
        read_enigh(p)


def test_dbf_cut_mid_record(dbf_bytes, tmp_path):
    n, h, r = _layout(dbf_bytes)
    p = _write(tmp_path, "mid.dbf", dbf_bytes[: h + 1500 * r + 100])
    with pytest.raises(InputError, match=r"mid\.dbf.*1,500 complete records and 100 bytes of a partial record"):
        read_enigh(p)


@pytest.mark.parametrize("nbytes", [0, 20, 500])
def test_dbf_header_truncated(dbf_bytes, tmp_path, nbytes):
    p = _write(tmp_path, "head.dbf", dbf_bytes[:nbytes])
    with pytest.raises(InputError, match=r"head\.dbf.*(header|32 bytes)"):
        read_table(p)


def test_dbf_random_bytes(tmp_path):
    rng = np.random.default_rng(1)
    data = bytes([0xBC]) + rng.integers(0, 256, 4999, dtype=np.uint8).tobytes()
    p = _write(tmp_path, "noise.dbf", data)
    with pytest.raises(InputError, match=r"noise\.dbf.*not a dBase.*found version byte 0xBC"):
        read_table(p)


def test_dbf_valid_version_byte_corrupt_header(dbf_bytes, tmp_path):
    b = bytearray(dbf_bytes[:2000])
    b[32:2000] = b"\x00" * (2000 - 32)  # field descriptors wiped: no 0x0D terminator
    p = _write(tmp_path, "wiped.dbf", bytes(b) + dbf_bytes[2000:])
    with pytest.raises(InputError, match=r"wiped\.dbf.*0x0D"):
        read_table(p)


def test_dbf_extra_bytes_and_wrong_count(dbf_bytes, tmp_path):
    p = _write(tmp_path, "extra.dbf", dbf_bytes + b" " * 533)
    with pytest.raises(InputError, match=r"extra\.dbf.*declares 2,315 records.*1,235,485 bytes"):
        read_table(p)
    # an end-of-file marker 0x1A is allowed
    df, _, _ = read_table(_write(tmp_path, "eof.dbf", dbf_bytes + b"\x1a"))
    assert len(df) == 2315


def test_dbf_deleted_records_counted(dbf_bytes, tmp_path):
    n, h, r = _layout(dbf_bytes)
    b = bytearray(dbf_bytes)
    b[h + 3 * r] = ord("*")  # mark record 4 deleted
    df, _, rep = read_table(_write(tmp_path, "del.dbf", bytes(b)))
    assert len(df) == 2314
    assert rep.find("skipped")[0].rows == 1


def test_csv_gz_cut_short(shared, tmp_path):
    g = shared("data", "eusilc", "eusilc.csv.gz").read_bytes()
    p = _write(tmp_path, "eusilc.csv.gz", g[: len(g) // 2])
    with pytest.raises(InputError, match=r"eusilc\.csv\.gz.*gzip stream is incomplete"):
        read_table(p)
    # cut inside the gzip trailer (the data decompresses but the CRC/size check fails)
    p = _write(tmp_path, "trailer.csv.gz", g[:-4])
    with pytest.raises(InputError, match=r"trailer\.csv\.gz.*incomplete"):
        read_table(p)


def test_csv_gz_cut_at_row_boundary_of_the_text(tmp_path):
    text = b"w,y\n1,2\n3,4\n5,6"
    p = tmp_path / "ok.csv.gz"
    p.write_bytes(gzip.compress(text))
    assert len(read_table(p)[0]) == 3
    p.write_bytes(gzip.compress(b"w,y\n1,2\n3,4\n5"))  # complete gzip of a text cut mid-row
    with pytest.raises(InputError, match=r"ok\.csv\.gz.*ends in the middle of a row.*expected 2 fields.*found 1"):
        read_table(p)


def test_empty_header_only_and_mid_row_csv(tmp_path):
    with pytest.raises(InputError, match=r"empty\.csv.*is empty"):
        read_table(_write(tmp_path, "empty.csv", b""))
    with pytest.raises(InputError, match=r"hdr\.csv.*no data rows.*3 column\(s\) and 0 rows"):
        read_table(_write(tmp_path, "hdr.csv", b"w,y,z\n"))
    with pytest.raises(InputError, match=r"hdr\.csv.*no data rows"):
        read_survey(tmp_path / "hdr.csv", {"weight": "w"})
    with pytest.raises(InputError, match=r"cut\.csv.*middle of a row.*expected 3 fields.*found 2"):
        read_table(_write(tmp_path, "cut.csv", b"w,y,z\n1,2,3\n4,5"))
    df, _, _ = read_table(_write(tmp_path, "nonl.csv", b"w,y,z\n1,2,3\n4,5,6"))  # no final newline: fine
    assert df.shape == (2, 3)


def test_other_formats_corrupt(tmp_path):
    for ext in ("parquet", "dta", "sav"):
        with pytest.raises(InputError, match=rf"x\.{ext}.*cannot read as"):
            read_table(_write(tmp_path, f"x.{ext}", b"not really a data file"))
    pd.DataFrame({"w": pd.Series([], dtype=float)}).to_parquet(tmp_path / "e.parquet")
    with pytest.raises(InputError, match="0 rows"):
        read_table(tmp_path / "e.parquet")
    with pytest.raises(InputError, match="is a folder"):
        (tmp_path / "d.csv").mkdir()
        read_table(tmp_path / "d.csv")


def test_bad_separator_is_input_error(tmp_path):
    with pytest.raises(InputError, match=r"bad\.csv.*cannot parse"):
        read_table(_write(tmp_path, "bad.csv", b"a,b\n1,2\n3,4,5,6\n"))


def test_short_row_inside_the_file(tmp_path):
    p = _write(tmp_path, "short.csv", b'w,y,z\n1,2,3\n4,5\n"6,5",7,8\n')
    with pytest.raises(InputError, match=r"short\.csv.*1 row has fewer fields than the header's 3.*'4,5'"):
        read_table(p)
    # an empty last field is a missing value, not a short row
    df, _, _ = read_table(_write(tmp_path, "ok.csv", b"w,y,z\n1,2,3\n4,5,\n"))
    assert df.shape == (2, 3) and np.isnan(df.loc[1, "z"])
    p = tmp_path / "short.csv.gz"
    p.write_bytes(gzip.compress(b"w,y,z\n1,2,3\n4,5\n6,7,8\n"))
    with pytest.raises(InputError, match="fewer fields"):
        read_table(p)


def test_dbf_field_lengths_disagree_with_record_length(dbf_bytes, tmp_path):
    n, h, r = _layout(dbf_bytes)
    b = bytearray(dbf_bytes)
    b[32 + 16] += 1  # first field one byte longer: every record would be read shifted
    with pytest.raises(InputError, match=r"shift\.dbf.*add up to 534 bytes per record.*533 bytes"):
        read_table(_write(tmp_path, "shift.dbf", bytes(b)))
