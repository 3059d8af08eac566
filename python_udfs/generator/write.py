"""Arrow tables of a block, and the files they are streamed into."""

from __future__ import annotations

import gzip
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from python_udfs.generator.catalogue import _catalogue
from python_udfs.generator.config import _GARBAGE_TIMESTAMPS, _KIND, _STORES
from python_udfs.generator.events import _EVENT_TYPES, _Events
from python_udfs.generator.simulate import _Block


# --- text columns -------------------------------------------------------------
def _string_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` as an Arrow string array."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamp_text(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` text of epoch seconds."""
    return pc.cast(pa.array(seconds.astype("datetime64[s]")), pa.string())


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuid_text(raw: np.ndarray) -> pa.Array:
    """Version-4 style UUID text from an ``(n, 16)`` uint8 array of bytes."""
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    n = raw.shape[0]
    hex_digits = _HEX[np.stack((raw >> 4, raw & 0x0F), axis=2).reshape(n, 32)]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _UUID_HEX_POSITIONS] = hex_digits
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    ).cast(pa.string())


# --- Arrow tables -------------------------------------------------------------
def _order_lines_schema(typed_timestamps: bool) -> pa.Schema:
    """Return the order lines schema (CSV keeps ``ordered_at`` as text)."""
    return pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("ordered_at", pa.timestamp("us") if typed_timestamps else pa.string()),
            ("product_id", pa.string()),
            ("product_name", pa.string()),
            ("product_category", pa.string()),
            ("quantity", pa.int32()),
            ("unit_price", pa.float64()),
            ("store_id", pa.string()),
        ]
    )


_EVENTS_SCHEMA = pa.schema(
    [
        ("event_time", pa.string()),
        ("event_type", pa.string()),
        ("product_id", pa.int64()),
        ("category_id", pa.int64()),
        ("category_code", pa.string()),
        ("brand", pa.string()),
        ("price", pa.float64()),
        ("user_id", pa.int64()),
        ("user_session", pa.string()),
    ]
)
_NULL_STRING = pa.scalar(None, pa.string())


def _order_lines_table(block: _Block, typed_timestamps: bool) -> pa.Table:
    """Arrow table of a block's rows in the canonical transactions layout."""
    cat = _catalogue()
    kind = block.kind
    prefix = pc.take(pa.array(["O", "R"]), pa.array(block.is_return.view(np.int8)))
    digits = pc.utf8_lpad(pc.cast(pa.array(block.order_number), pa.string()), 9, "0")
    order_id = pc.binary_join_element_wise(prefix, digits, "")
    customer_id = _string_ids("C", block.customer + block.first_customer + 1, 7)
    customer_id = pc.if_else(
        pa.array(kind == _KIND["missing_customer_id"]), _NULL_STRING, customer_id
    )
    no_time = kind == _KIND["missing_timestamp"]
    if typed_timestamps:
        ordered_at = pa.array(
            block.seconds.astype("datetime64[s]").astype("datetime64[us]"),
            mask=no_time,
        )
    else:
        ordered_at = _timestamp_text(block.seconds)
        garbage = pc.take(pa.array(_GARBAGE_TIMESTAMPS), pa.array(block.garbage))
        ordered_at = pc.if_else(
            pa.array(kind == _KIND["unparseable_timestamp"]), garbage, ordered_at
        )
        ordered_at = pc.if_else(pa.array(no_time), _NULL_STRING, ordered_at)
    product = pa.array(block.product)
    return pa.Table.from_arrays(
        [
            order_id,
            customer_id,
            ordered_at,
            pc.take(cat.product_id, product),
            pc.take(cat.product_name, product),
            pc.take(cat.product_category, product),
            pa.array(block.quantity, pa.int32()),
            pa.array(block.unit_price, pa.float64()),
            pc.take(pa.array(_STORES), pa.array(block.store)),
        ],
        schema=_order_lines_schema(typed_timestamps),
    )


def _events_table(events: _Events, first_customer: int) -> pa.Table:
    """Arrow table of a block's events in the REES46 layout."""
    cat = _catalogue()
    product = pa.array(events.product)
    return pa.Table.from_arrays(
        [
            pc.binary_join_element_wise(_timestamp_text(events.seconds), " UTC", ""),
            pc.take(pa.array(_EVENT_TYPES), pa.array(events.event_type)),
            pa.array(cat.number[events.product]),
            pa.array(cat.category_id[events.product]),
            pc.take(cat.category_code, product),
            pc.take(cat.brand, product),
            pa.array(events.price),
            pa.array(events.customer.astype(np.int64) + first_customer + 1),
            pc.take(_uuid_text(events.session_uuid), pa.array(events.session)),
        ],
        schema=_EVENTS_SCHEMA,
    )


# --- writing ------------------------------------------------------------------
_GZIP_LEVEL = 3  # zlib level 3: ~4x faster than 9, files ~30 % larger
_LINES_DICTIONARY = ["product_id", "product_name", "product_category", "store_id"]
_EVENTS_DICTIONARY = ["event_type", "product_id", "category_code", "brand"]


class _TableSink:
    """Streams tables into one Parquet, CSV or gzipped CSV file."""

    def __init__(
        self, path: Path, schema: pa.Schema, fmt: str, dictionary: list[str]
    ) -> None:
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        self._format = fmt
        self._streams: list[Any] = []
        if fmt == "parquet":
            self._writer: Any = pq.ParquetWriter(
                self._partial, schema, compression="zstd", use_dictionary=dictionary
            )
            return
        if fmt == "csv.gz":
            raw = open(self._partial, "wb")  # closed in _close_all()
            # No file name and mtime 0 in the header: same bytes every time.
            stream: Any = gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=_GZIP_LEVEL, mtime=0
            )
            self._streams = [stream, raw]
        else:
            stream = pa.OSFile(str(self._partial), "wb")
            self._streams = [stream]
        stream.write((",".join(schema.names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        self._writer = pacsv.CSVWriter(stream, schema, write_options=options)

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (as one Parquet row group)."""
        if self._format == "parquet":
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        else:
            self._writer.write_table(table)

    def _close_all(self) -> None:
        """Close the writer, then the streams under it."""
        self._writer.close()
        for stream in self._streams:
            stream.close()

    def close(self) -> None:
        """Finish the file and move it to its final name."""
        self._close_all()
        os.replace(self._partial, self.path)

    def abort(self) -> None:
        """Close and delete the unfinished file."""
        try:
            self._close_all()
        finally:
            self._partial.unlink(missing_ok=True)


class _BackgroundWriter:
    """Runs writes on one worker thread, at most one at a time.

    Arrow's Parquet and CSV writers and zlib release the GIL, so writing a
    chunk overlaps with simulating the next one; waiting for the previous
    write before queueing the next bounds memory to about two chunks.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cv-generate-writer")
        self._busy: Future[None] | None = None

    def submit(self, jobs: list[tuple[_TableSink, pa.Table]]) -> None:
        """Write each ``(sink, table)`` in order, after the previous writes."""
        self.wait()
        if jobs:
            self._busy = self._pool.submit(_write_all, jobs)

    def wait(self) -> None:
        """Wait for the write in flight; re-raise its error."""
        busy, self._busy = self._busy, None
        if busy is not None:
            busy.result()

    def close(self) -> None:
        """Wait for the last write and stop the worker."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _write_all(jobs: list[tuple[_TableSink, pa.Table]]) -> None:
    """Write tables to their sinks (worker thread)."""
    for sink, table in jobs:
        sink.write(table)


def _file_name(stem: str, fmt: str) -> str:
    """File name of an output file in the given format."""
    return f"{stem}.{fmt}"
