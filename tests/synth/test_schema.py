"""The sample schema: sparse rows become full tables, and status/reason pairs are checked."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from synth.reasons import REASONS, Status
from synth.schema import (
    COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    SCORE,
    SCORES_V1,
    check_row_status,
    rows_to_table,
    score_column,
    scores_of,
    upgrade_table,
    version_of,
)
from synth.writer import table_bytes


def test_rows_to_table_fills_absent_columns_with_nulls():
    table = rows_to_table([{"sample_id": "a", "status": "kept", "width": 8}])
    assert table.schema.equals(SCHEMA)
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert set(row) == set(COLUMNS)
    assert row["sample_id"] == "a"
    assert row["width"] == 8
    for name in COLUMNS:
        if name not in ("sample_id", "status", "width"):
            assert row[name] is None, name


def test_rows_to_table_rejects_unknown_columns():
    with pytest.raises(KeyError, match="bogus"):
        rows_to_table([{"sample_id": "a", "status": "kept", "bogus": 1}])


def test_rows_to_table_sorts_scores_by_name_and_casts_to_float():
    table = rows_to_table(
        [{"sample_id": "a", "status": "kept", "scores": {"zeta": 1, "alpha": 0.5, "mid": 2}}]
    )
    assert table.schema.field("scores").type == pa.list_(SCORE)  # not a map: HF datasets loads it
    scores = table.column("scores").to_pylist()[0]
    assert scores == [
        {"name": "alpha", "value": 0.5},
        {"name": "mid", "value": 2.0},
        {"name": "zeta", "value": 1.0},
    ]
    assert all(isinstance(s["value"], float) for s in scores)
    assert scores_of({"scores": scores}) == {"alpha": 0.5, "mid": 2.0, "zeta": 1.0}


def test_score_column_reads_one_score_per_row_nan_where_absent():
    rows = [{"sample_id": str(i), "status": "kept", "scores": s}
            for i, s in enumerate([{"a": 1.0, "b": 2.0}, None, {}, {"b": 5.0}])]  # fmt: skip
    table = pa.concat_tables([rows_to_table(rows[:2]), rows_to_table(rows[2:])])  # two chunks
    got = score_column(table.column("scores"), "b")
    assert got[0] == 2.0 and got[3] == 5.0 and np.isnan(got[1]) and np.isnan(got[2])
    assert np.isnan(score_column(table.column("scores").slice(1, 2), "a")).all()


def test_upgrade_table_turns_a_1x_scores_map_into_sorted_structs():
    v1 = pa.schema([pa.field("sample_id", pa.string()), pa.field("scores", SCORES_V1)],
                   metadata={"schema_version": "1.0"})  # fmt: skip
    table = pa.Table.from_pylist([{"sample_id": "a", "scores": [("z", 1.0), ("a", 2.0)]},
                                  {"sample_id": "b", "scores": None}], schema=v1)  # fmt: skip
    up = upgrade_table(table)
    assert version_of(up.schema) == version_of(SCHEMA)
    assert up.column("scores").to_pylist() == [
        [{"name": "a", "value": 2.0}, {"name": "z", "value": 1.0}],
        None,
    ]
    assert up.column("sample_id").to_pylist() == ["a", "b"]


def test_rows_to_table_serialises_spec_and_meta_canonically():
    a = rows_to_table([{"sample_id": "a", "status": "kept", "spec": {"b": 1, "a": [1, 2]}, "meta": "raw"}])
    b = rows_to_table([{"sample_id": "a", "status": "kept", "spec": {"a": [1, 2], "b": 1}, "meta": "raw"}])
    assert a.column("spec").to_pylist() == ['{"a":[1,2],"b":1}']
    assert a.column("spec").to_pylist() == b.column("spec").to_pylist()
    assert a.column("meta").to_pylist() == ["raw"]


def test_empty_table_has_the_schema():
    table = rows_to_table([])
    assert table.num_rows == 0
    assert table.schema.equals(SCHEMA)
    assert table.schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode()


def test_nested_values_round_trip():
    row = {
        "sample_id": "x",
        "status": "kept",
        "texts": [
            {
                "text": "hi",
                "role": "title",
                "bbox": [0, 1, 2, 3],
                "polygon": [0] * 8,
                "font": "F",
                "color": "#000000",
                "language": "en",
            }
        ],
        "target_image": {"bytes": b"\x89PNG", "path": None},
    }
    out = rows_to_table([row]).to_pylist()[0]
    assert out["texts"][0]["text"] == "hi"
    assert out["texts"][0]["bbox"] == [0.0, 1.0, 2.0, 3.0]
    assert out["target_image"] == {"bytes": b"\x89PNG", "path": None}


def test_null_sample_id_never_reaches_a_shard():
    """sample_id is non-nullable: a row without one must fail before it is written."""
    with pytest.raises((pa.ArrowInvalid, ValueError, KeyError)):
        table_bytes(rows_to_table([{"status": "kept"}]))


@pytest.mark.parametrize(
    ("row", "ok"),
    [
        ({"status": "kept", "reason": None}, True),
        ({"status": "kept"}, True),
        ({"status": "rejected", "reason": "decode_error"}, True),
        ({"status": "error", "reason": "io_error"}, True),
        ({"status": "kept", "reason": "decode_error"}, False),
        ({"status": "rejected", "reason": "no_such_reason"}, False),
        ({"status": "rejected", "reason": None}, False),
        ({"status": "rejected", "reason": "io_error"}, False),  # io_error implies error
        ({"status": "error", "reason": "decode_error"}, False),  # decode_error implies rejected
        ({"status": "maybe", "reason": "decode_error"}, False),
        ({"status": None, "reason": None}, False),
    ],
)
def test_check_row_status(row, ok):
    problem = check_row_status(row)
    if ok:
        assert problem is None
    else:
        assert isinstance(problem, str) and problem


def test_every_reason_is_coherent_with_its_own_status():
    for code, (status, _) in REASONS.items():
        assert check_row_status({"status": str(status), "reason": code}) is None
        other = Status.ERROR if status == Status.REJECTED else Status.REJECTED
        assert check_row_status({"status": str(other), "reason": code}) is not None
