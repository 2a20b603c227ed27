"""Monthly sales exports from the order system (``records/sales/<yyyy-mm>.csv``,
or gzip-compressed ``records/sales/<yyyy-mm>.csv.gz``).

Columns: ``date,retailer,brand,quantity,amount`` — the order date, retailer
id, brand id, quantity in cartons (条) and amount in yuan. One row per order
line. Rows that cannot be read are reported with file, row and column and
left out.

The data is columnar (numpy), so a city's year (20,000 retailers × ~12 brands
× 52 weeks ≈ 12.5 M rows) loads in seconds:

``SalesData`` (``repo.sales``)
    ``day``       datetime64[D] per row
    ``retailer``  int32 codes into ``retailer_ids`` (sorted list of str)
    ``brand``     int32 codes into ``brand_ids`` (sorted list of str)
    ``quantity``  int64 (cartons)
    ``amount``    float64 (yuan)
    ``files`` / ``file_of`` / ``line``: where each row came from, for messages
    only (``origin(i) -> (rel, line)``).
    Codes are assigned after all files are read (ids sorted), so they do not
    depend on file order. Rows are kept in file order.
    ``retailer_code(id)`` / ``brand_code(id)``: the code or -1;
    ``last_day()``; ``rows_of(retailer)`` → ``SaleRow`` list (messages, tests);
    ``SalesData.from_rows(rows)`` / ``from_arrays(...)``: build in memory
    (tests, benchmarks); ``finish()`` merges files read so far (``load`` does it).

Helpers over a ``SalesData`` (all vectorised):

``week_of(days)``            ISO week index (Monday-based int: days since
                             1970-01-01 + 3, // 7); ``week_start(w)`` its Monday.
``month_of(days)``           month index (year*12 + month-1); ``month_key(m)``
                             ``"YYYY-MM"``; ``month_index("YYYY-MM")``.
``weekly(sales, w0, w1, value="amount"|"quantity", rows=None)``
                             dense (n_retailers, w1-w0) matrix of totals per
                             retailer and week ``w0 <= w < w1``.
``pairs(sales)``             ``Pairs``: the (retailer, brand) combinations that
                             occur, ``pair`` code per row, and
                             ``pairs.weekly(w0, w1)`` (n_pairs, weeks) quantities.
``monthly(sales, value)``    (n_retailers, n_months) totals, with ``month0``.
``by_retailer(sales)``       row order grouped by retailer (then date) and the
                             start offset of each retailer.
``row_weeks`` / ``row_months``  week / month index of every row (cached).
``managers(sales, retailers)``  per-row customer manager (codes into a sorted
                             list of manager ids), using
                             ``Management.manager_on(day)`` so a retailer that
                             changed manager mid-month is attributed day by day.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence

import numpy as np

from .diagnostics import Diagnostic

COLUMNS = ("date", "retailer", "brand", "quantity", "amount")


class SaleRow(NamedTuple):
    date: dt.date
    retailer: str
    brand: str
    quantity: int
    amount: float


@dataclass
class _Chunk:
    """One file's readable rows, ids still as local codes."""

    file: np.ndarray  # per row: index into SalesData.files
    day: np.ndarray
    retailer: np.ndarray  # local codes into r_ids
    r_ids: list[str]
    brand: np.ndarray
    b_ids: list[str]
    quantity: np.ndarray
    amount: np.ndarray
    line: np.ndarray


_EMPTY_DAY = np.zeros(0, dtype="datetime64[D]")


@dataclass
class SalesData:
    day: np.ndarray = field(default_factory=lambda: _EMPTY_DAY.copy())
    retailer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    brand: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    quantity: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    amount: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    retailer_ids: list[str] = field(default_factory=list)
    brand_ids: list[str] = field(default_factory=list)
    # origin, for messages only
    files: list[str] = field(default_factory=list)
    file_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    _chunks: list[_Chunk] = field(default_factory=list, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ building

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]], rel: str = "<memory>") -> "SalesData":
        """Build from (date, retailer, brand, quantity, amount) rows — for tests
        and generators. Dates may be ``date`` objects or ISO strings."""
        rows = list(rows)
        data = cls()
        data.files.append(rel)
        r_ids = sorted({str(r[1]) for r in rows})
        b_ids = sorted({str(r[2]) for r in rows})
        r_at = {v: i for i, v in enumerate(r_ids)}
        b_at = {v: i for i, v in enumerate(b_ids)}
        data._chunks.append(_Chunk(
            np.zeros(len(rows), np.int32),
            np.array([np.datetime64(r[0] if isinstance(r[0], str) else r[0].isoformat(), "D") for r in rows], dtype="datetime64[D]"),
            np.array([r_at[str(r[1])] for r in rows], dtype=np.int32), r_ids,
            np.array([b_at[str(r[2])] for r in rows], dtype=np.int32), b_ids,
            np.array([int(r[3]) for r in rows], dtype=np.int64),
            np.array([float(r[4]) for r in rows], dtype=np.float64),
            np.arange(2, len(rows) + 2, dtype=np.int32),
        ))
        data.finish()
        return data

    @classmethod
    def from_arrays(
        cls, day: np.ndarray, retailer: np.ndarray, brand: np.ndarray, quantity: np.ndarray,
        amount: np.ndarray, retailer_ids: list[str], brand_ids: list[str],
    ) -> "SalesData":
        """Wrap ready arrays (ids must be sorted) — synthetic data for speed tests."""
        n = len(day)
        return cls(
            day=np.asarray(day, dtype="datetime64[D]"), retailer=np.asarray(retailer, np.int32),
            brand=np.asarray(brand, np.int32), quantity=np.asarray(quantity, np.int64),
            amount=np.asarray(amount, np.float64), retailer_ids=list(retailer_ids), brand_ids=list(brand_ids),
            files=["<memory>"], file_of=np.zeros(n, np.int32), line=np.arange(2, n + 2, dtype=np.int32),
        )

    def finish(self) -> None:
        """Merge the chunks read so far into the arrays, with global sorted codes."""
        if not self._chunks:
            return
        parts = [self._as_chunk()] if len(self.day) else []
        parts += self._chunks
        self._chunks = []
        r_all = sorted(set().union(*(p.r_ids for p in parts)))
        b_all = sorted(set().union(*(p.b_ids for p in parts)))
        r_arr = np.array(r_all, dtype=object)
        b_arr = np.array(b_all, dtype=object)

        def remap(local: np.ndarray, ids: list[str], arr: np.ndarray) -> np.ndarray:
            if not ids:
                return local.astype(np.int32)
            table = np.searchsorted(arr, np.array(ids, dtype=object)).astype(np.int32)
            return table[local]

        self.day = np.concatenate([p.day for p in parts]).astype("datetime64[D]", copy=False)
        self.retailer = np.concatenate([remap(p.retailer, p.r_ids, r_arr) for p in parts]).astype(np.int32, copy=False)
        self.brand = np.concatenate([remap(p.brand, p.b_ids, b_arr) for p in parts]).astype(np.int32, copy=False)
        self.quantity = np.concatenate([p.quantity for p in parts]).astype(np.int64, copy=False)
        self.amount = np.concatenate([p.amount for p in parts]).astype(np.float64, copy=False)
        self.file_of = np.concatenate([p.file for p in parts]).astype(np.int32, copy=False)
        self.line = np.concatenate([p.line for p in parts]).astype(np.int32, copy=False)
        self.retailer_ids = r_all
        self.brand_ids = b_all
        for a in (self.day, self.retailer, self.brand, self.quantity, self.amount):
            a.flags.writeable = False  # as the sales cache's mapped arrays: a rule never writes into them
        self._cache.clear()

    def _as_chunk(self) -> _Chunk:
        return _Chunk(self.file_of, self.day, self.retailer, self.retailer_ids, self.brand, self.brand_ids,
                      self.quantity, self.amount, self.line)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled (the sales read in a worker process): every array with
        numpy's own dtype object. Pickle gives an equal but distinct one, and
        ``np.add.at`` then takes its slow element-by-element path (35 × slower
        for 2²⁰ float64 rows, measured)."""
        for name, value in state.items():
            if value.__class__ is np.ndarray and value.dtype.kind in "biuf":
                own = np.dtype(value.dtype.str)
                if value.dtype is not own:
                    state[name] = value.view(own)
        self.__dict__.update(state)

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        self.finish()
        return len(self.day)

    def origin(self, i: int) -> tuple[str, int]:
        return self.files[int(self.file_of[i])], int(self.line[i])

    def retailer_code(self, rid: str) -> int:
        return _code(self.retailer_ids, rid)

    def brand_code(self, bid: str) -> int:
        return _code(self.brand_ids, bid)

    def last_day(self) -> Optional[dt.date]:
        self.finish()
        if not len(self.day):
            return None
        known = self._cache.get("last_day")  # (the sales cache's header says it)
        return known if known is not None else self.day.max().astype(dt.date)

    def rows_of(self, retailer: str) -> list[SaleRow]:
        """The rows of one retailer, in date order (for messages and tests)."""
        code = self.retailer_code(retailer)
        if code < 0:
            return []
        idx = np.flatnonzero(self.retailer == code)
        idx = idx[np.argsort(self.day[idx], kind="stable")]
        return [
            SaleRow(self.day[i].astype(dt.date), retailer, self.brand_ids[self.brand[i]], int(self.quantity[i]), float(self.amount[i]))
            for i in idx
        ]


@contextlib.contextmanager
def small_pages():
    """Inside, numpy does not advise huge pages for the arrays it makes (its
    own switch, restored afterwards). With transparent huge pages in
    "madvise" mode the kernel may compact memory to find a huge page at each
    first touch: reading a city's sales cache (~0.5 GB of arrays) took
    0.07–1.06 s, most of it system time, as memory happened to be fragmented;
    with small pages 0.19–0.31 s every time."""
    switch = getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
    before = switch(False) if switch is not None else None
    try:
        yield
    finally:
        if switch is not None:
            switch(before)


# columns kept for messages only (where each row came from): when the sales
# cache holds them as runs they are filled on first use, not read with the rest
DEFERRED = ("file_of", "line")


class DeferredSales(SalesData):
    """A :class:`SalesData` read from the sales cache whose :data:`DEFERRED`
    columns (kept as runs) are made on first use: a city's 2 × 46 MB that only
    a message naming a row's file and line reads. Pickled, compared or
    printed, it is the SalesData it stands for."""

    def __getattr__(self, name: str) -> Any:  # a deferred column not made yet
        fill = self.__dict__.get("_fill")
        if fill is None or name not in fill:
            raise AttributeError(name)
        array = fill.pop(name)()
        self.__dict__[name] = array
        if not fill:  # every column made: a plain SalesData from now on
            del self.__dict__["_fill"]
            self.__class__ = SalesData  # type: ignore[assignment]
        return array

    def __reduce_ex__(self, protocol: Any) -> Any:  # pickled: as the SalesData it stands for
        for name in list(self.__dict__.get("_fill") or ()):
            getattr(self, name)
        return self.__reduce_ex__(protocol)


class LazySales(SalesData):
    """``repo.sales`` whose arrays are read on first use (``SalesCache.lazy``):
    ``load()`` gives the :class:`SalesData`, which this object then becomes
    (its class and attributes), so every later use is a plain SalesData.
    ``last_day()`` is answered without reading when the day is known.
    ``crmdocs recalc`` takes what the rules read of the sales from its side
    worker, and then never reads 12 M rows here."""

    def __init__(self, load: Any, last: Optional[dt.date] = None, close: Any = None):  # (no dataclass fields: each is read on use)
        self.__dict__["_load"] = load
        self.__dict__["_last"] = last
        self.__dict__["_close"] = close  # let go of what ``load`` would read from, when never read

    def __del__(self) -> None:  # never read (once read, this object is a SalesData)
        close = self.__dict__.get("_close")
        if close is not None:
            close()

    def _become(self) -> None:
        data = self.__dict__["_load"]()
        self.__dict__.clear()
        self.__dict__.update(data.__dict__)
        self.__class__ = type(data)  # (a DeferredSales: its runs columns still made on first use)

    def __getattr__(self, name: str) -> Any:  # a field not read yet
        if name.startswith("__") or "_load" not in self.__dict__:
            raise AttributeError(name)
        self._become()
        return getattr(self, name)

    def last_day(self) -> Optional[dt.date]:
        if self.__dict__.get("_last") is not None:
            return self.__dict__["_last"]
        self._become()
        return self.last_day()

    def __reduce_ex__(self, protocol: Any) -> Any:  # pickled: as the SalesData it stands for
        self._become()
        return self.__reduce_ex__(protocol)

    def __repr__(self) -> str:
        return "LazySales(not read yet)"


def _code(ids: list[str], value: str) -> int:
    import bisect

    i = bisect.bisect_left(ids, value)
    return i if i < len(ids) and ids[i] == value else -1


# ---------------------------------------------------------------- reading files


def read_sales_csv(data: bytes, rel: str, month: str, into: SalesData) -> list[Diagnostic]:
    """Add the readable rows of one monthly file (``.csv`` or ``.csv.gz``
    bytes) to ``into``; return problems. Call ``into.finish()`` after the last
    file (``len()`` and the helpers do it when needed)."""
    if rel.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            return [Diagnostic(rel, 0, 0, "", f"无法解压这个 gzip 销售文件：{exc} (cannot decompress)", "error", "gzip")]
    file_no = len(into.files)
    into.files.append(rel)
    chunk = _fast(data, month, file_no)
    if chunk is not None:
        into._chunks.append(chunk)
        return []
    return _slow(data, rel, month, file_no, into)


CSV_BLOCK = 1 << 26  # bytes pyarrow parses at once: a month of a city (~40 MB) in one block


def _fast(data: bytes, month: str, file_no: int) -> Optional[_Chunk]:
    """pyarrow path. Returns None whenever anything is unusual, so that the
    row-by-row reader can report it exactly (and line numbers stay exact)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        from pyarrow import csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # quoted fields may span lines and empty lines are skipped by pyarrow:
    # either would make row numbers inexact, so such files go the slow way
    if b'"' in data or b"\r" in data or b"\n\n" in data:
        return None
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)]
    if header.decode("utf-8", "replace").split(",") != list(COLUMNS):
        return None
    if end < 0 or end == len(data) - 1:
        return None  # header only: the slow path is instant
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=list(COLUMNS), block_size=CSV_BLOCK,
                # one thread: validation runs its workers meanwhile, and pyarrow's
                # threads cost more CPU than they save on a busy machine
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(),
            convert_options=pacsv.ConvertOptions(
                column_types={  # ids read as dictionaries: half the time of strings encoded after
                    "date": pa.date32(), "retailer": pa.dictionary(pa.int32(), pa.string()),
                    "brand": pa.dictionary(pa.int32(), pa.string()), "quantity": pa.int64(), "amount": pa.float64(),
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return None
    if any(table.column(c).null_count for c in COLUMNS):
        return None
    n = table.num_rows
    # date32 is days since 1970-01-01: reinterpret without Python objects
    day = table.column("date").cast(pa.int32()).to_numpy().astype(np.int64).view("datetime64[D]")
    lo = np.datetime64(f"{month}-01", "D")
    hi = (np.datetime64(month, "M") + 1).astype("datetime64[D]")
    if n and (day.min() < lo or day.max() >= hi):
        return None
    quantity = table.column("quantity").to_numpy()
    amount = table.column("amount").to_numpy()
    if n and (quantity.min() < 0 or amount.min() < 0 or not np.isfinite(amount).all()
              or quantity.max() > MAX_QUANTITY or amount.max() > MAX_AMOUNT):
        return None  # the row reader names the row
    cols = {}
    for name in ("retailer", "brand"):
        column = table.column(name)
        if column.num_chunks == 1:
            enc = column.chunk(0)
        else:  # blocks with dictionaries of their own: one for the file
            enc = pc.dictionary_encode(column.cast(pa.string())).combine_chunks()
        ids = enc.dictionary.to_pylist()
        if any(not v or v != v.strip() for v in ids):
            return None
        local = enc.indices.to_numpy().astype(np.int32)
        # local codes sorted, so chunks remap with one searchsorted
        order = sorted(range(len(ids)), key=ids.__getitem__)
        rank = np.empty(len(ids), np.int32)
        rank[order] = np.arange(len(ids), dtype=np.int32)
        cols[name] = (rank[local], [ids[i] for i in order])
    return _Chunk(
        np.full(n, file_no, np.int32), day, cols["retailer"][0], cols["retailer"][1], cols["brand"][0], cols["brand"][1],
        quantity.astype(np.int64, copy=False), amount.astype(np.float64, copy=False), np.arange(2, n + 2, dtype=np.int32),
    )


MAX_ROW_PROBLEMS = 50  # per file; the rest are counted in one message
MAX_QUANTITY = 10**12  # cartons; anything larger is a broken export, not a sale
MAX_AMOUNT = 1e15  # yuan


def _slow(data: bytes, rel: str, month: str, file_no: int, into: SalesData) -> list[Diagnostic]:
    """Row by row: every problem reported with its row and column."""
    diags: list[Diagnostic] = []
    more = [0, 0]  # rows with problems beyond MAX_ROW_PROBLEMS, the first such line

    def err(line: int, column: int, fld: str, message: str, code: str) -> None:
        if len(diags) < MAX_ROW_PROBLEMS:
            diags.append(Diagnostic(rel, line, column, fld, message, "error", code))
        else:  # a wrong export can have a million bad rows: list a few, count the rest
            more[0] += 1
            more[1] = more[1] or line

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        err(line, 0, "", "销售文件不是 UTF-8 编码（可能是 GBK）：请用 UTF-8 另存 (file is not UTF-8)", "encoding")
        return diags
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        err(1, 0, "", "销售文件是空的，第一行应为表头 date,retailer,brand,quantity,amount (empty file)", "csv_header")
        return diags
    except csv.Error as exc:
        err(1, 0, "", f"表头读不了：{exc} (unreadable header)", "csv_row")
        return diags
    if tuple(h.strip() for h in header) != COLUMNS:
        err(
            1, 1, "",
            f"表头应为 {','.join(COLUMNS)}，读到的是 {','.join(header)} (expected columns {','.join(COLUMNS)})",
            "csv_header",
        )
        return diags
    year, mon = int(month[:4]), int(month[5:7])
    days: list[dt.date] = []
    rets: list[str] = []
    brands: list[str] = []
    qtys: list[int] = []
    amts: list[float] = []
    lines: list[int] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            err(reader.line_num, 0, "", f"这一行读不了：{exc} (unreadable row)", "csv_row")
            break
        lineno = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            err(lineno, 0, "", f"这一行有 {len(row)} 列，应为 {len(COLUMNS)} 列 (expected {len(COLUMNS)} columns)", "csv_row")
            continue
        d, retailer, brand, qty, amount = (c.strip() for c in row)
        try:
            day = dt.date.fromisoformat(d)
        except ValueError:
            err(lineno, 1, "date", f"日期 {d!r} 不对，应为 YYYY-MM-DD (bad date)", "csv_value")
            continue
        if (day.year, day.month) != (year, mon):
            err(lineno, 1, "date", f"日期 {d} 不在本文件的月份 {month} (date outside the file's month)", "csv_value")
            continue
        try:
            quantity = int(qty)
        except ValueError:
            err(lineno, 4, "quantity", f"数量 {qty!r} 应为整数（条）(quantity must be a whole number)", "csv_value")
            continue
        try:
            value = float(amount)
        except ValueError:
            err(lineno, 5, "amount", f"金额 {amount!r} 应为数字 (amount must be a number)", "csv_value")
            continue
        if quantity < 0 or value < 0:
            err(lineno, 4, "quantity", "数量和金额不能为负数 (negative quantity or amount)", "csv_value")
            continue
        if quantity > MAX_QUANTITY or not value <= MAX_AMOUNT:  # also nan and inf
            err(lineno, 4, "quantity", f"数量或金额大得不可能（{qty}，{amount}）(quantity or amount out of range)", "csv_value")
            continue
        if not retailer or not brand:
            err(lineno, 2, "retailer", "零售户和品牌不能为空 (retailer and brand are required)", "csv_value")
            continue
        days.append(day)
        rets.append(retailer)
        brands.append(brand)
        qtys.append(quantity)
        amts.append(value)
        lines.append(lineno)
    if more[0]:
        diags.append(Diagnostic(
            rel, more[1], 0, "", f"从这一行起还有 {more[0]} 行有错，不再一一列出；请检查导出设置 ({more[0]} more rows with problems)",
            "error", "csv_more",
        ))
    r_ids = sorted(set(rets))
    b_ids = sorted(set(brands))
    r_at = {v: i for i, v in enumerate(r_ids)}
    b_at = {v: i for i, v in enumerate(b_ids)}
    into._chunks.append(_Chunk(
        np.full(len(days), file_no, np.int32),
        np.array([d.isoformat() for d in days], dtype="datetime64[D]") if days else _EMPTY_DAY.copy(),
        np.array([r_at[r] for r in rets], dtype=np.int32), r_ids,
        np.array([b_at[b] for b in brands], dtype=np.int32), b_ids,
        np.array(qtys, dtype=np.int64), np.array(amts, dtype=np.float64), np.array(lines, dtype=np.int32),
    ))
    return diags


def write_sales_csv(rows: Iterable[Sequence[Any]]) -> str:
    """The text of a monthly file, rows in a stable order. ``rows`` are
    (date, retailer, brand, quantity, amount) tuples (``SaleRow`` or plain);
    dates may be ``date`` objects or ISO strings."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    norm = []
    for r in rows:
        d = r[0] if isinstance(r[0], str) else r[0].isoformat()
        norm.append((d, str(r[1]), str(r[2]), int(r[3]), float(r[4])))
    for d, retailer, brand, qty, amount in sorted(norm):
        w.writerow((d, retailer, brand, qty, f"{amount:.2f}"))
    return out.getvalue()


# ---------------------------------------------------------------- helpers

_EPOCH_MONDAY_SHIFT = 3  # 1970-01-01 was a Thursday

# rows per block where per-row work is done block by block: ~8 MB temporaries
# that the allocator reuses, instead of fresh 100 MB ones at city scale
CHUNK = 1 << 20


def week_of(days: np.ndarray | dt.date) -> np.ndarray | int:
    """Monday-based week index: equal for all days of one ISO week."""
    if isinstance(days, dt.date):
        return (days.toordinal() - dt.date(1970, 1, 1).toordinal() + _EPOCH_MONDAY_SHIFT) // 7
    return (days.astype("datetime64[D]").astype(np.int64) + _EPOCH_MONDAY_SHIFT) // 7


def week_start(week: int) -> dt.date:
    """The Monday of week index ``week``."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(week) * 7 - _EPOCH_MONDAY_SHIFT)


def iso_week_label(week: int) -> str:
    """``2026-W23`` for a week index."""
    y, w, _ = week_start(week).isocalendar()
    return f"{y}-W{w:02d}"


def month_of(days: np.ndarray | dt.date) -> np.ndarray | int:
    """Month index year*12 + month-1."""
    if isinstance(days, dt.date):
        return days.year * 12 + days.month - 1
    return days.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def month_key(month: int) -> str:
    return f"{int(month) // 12:04d}-{int(month) % 12 + 1:02d}"


def month_index(key: str) -> int:
    return int(key[:4]) * 12 + int(key[5:7]) - 1


def month_first(month: int) -> dt.date:
    return dt.date(int(month) // 12, int(month) % 12 + 1, 1)


def weekly(sales: SalesData, w0: int, w1: int, value: str = "amount", rows: Optional[np.ndarray] = None) -> np.ndarray:
    """Dense (n_retailers, w1 - w0) totals per retailer and week, weeks
    ``w0 <= w < w1``; ``rows`` an optional boolean mask over rows."""
    sales.finish()
    n_r = len(sales.retailer_ids)
    width = max(0, w1 - w0)
    w = _weeks(sales) - w0
    sel = (w >= 0) & (w < width)
    if rows is not None:
        sel &= rows
    vals = getattr(sales, value)
    flat = sales.retailer[sel].astype(np.int64) * width + w[sel]
    dtype = np.float64 if value == "amount" else np.int64
    out = np.bincount(flat, weights=vals[sel].astype(np.float64), minlength=n_r * width) if width else np.zeros(0)
    out = out.reshape(n_r, width)
    return out.astype(dtype) if dtype is np.int64 else out


def monthly(sales: SalesData, value: str = "quantity") -> tuple[np.ndarray, int]:
    """(n_retailers, n_months) totals and the index of the first month."""
    sales.finish()
    n_r = len(sales.retailer_ids)
    if not len(sales.day):
        return np.zeros((n_r, 0)), 0
    m = _months(sales)
    m0 = int(m.min())
    width = int(m.max()) - m0 + 1
    flat = sales.retailer.astype(np.int64) * width + (m - m0)
    out = np.bincount(flat, weights=as_float(sales, value), minlength=n_r * width).reshape(n_r, width)
    return (np.rint(out).astype(np.int64) if value == "quantity" else out), m0


def as_float(sales: SalesData, value: str) -> np.ndarray:
    """Column ``value`` ("quantity" or "amount") as float64, the weights
    ``np.bincount`` takes: converted once per sales data and kept (each
    conversion of 10⁷ quantities is a fresh 100 MB array)."""
    sales.finish()
    column = getattr(sales, value)
    if column.dtype == np.float64:
        return column
    key = f"float_{value}"
    if key not in sales._cache:
        sales._cache[key] = column.astype(np.float64)
    return sales._cache[key]


def _by_day(sales: SalesData, of) -> np.ndarray:
    """``of(day)`` for every row, through a table with one entry per day of
    the data's span: one subtraction and one look-up per row instead of
    calendar arithmetic on 10⁷ dates."""
    days = sales.day.view(np.int64)
    if not len(days):
        return of(sales.day)
    lo = int(days.min())
    table = np.asarray(of(np.arange(lo, int(days.max()) + 1).astype("datetime64[D]")), np.int64)
    offset = days - lo
    return table[offset]


def weeks_since(sales: SalesData, w0: int) -> np.ndarray:
    """Week index − ``w0`` of every row as a new int64 array, worked out in
    place (no per-row week array kept): the start of a per-row cell number."""
    out = sales.day.view(np.int64) + (_EPOCH_MONDAY_SHIFT - 7 * int(w0))
    out //= 7  # (day + 3) // 7 − w0, as week_of
    return out


def _weeks(sales: SalesData) -> np.ndarray:
    if "week" not in sales._cache:
        sales._cache["week"] = _by_day(sales, week_of)
    return sales._cache["week"]


def _months(sales: SalesData) -> np.ndarray:
    if "month" not in sales._cache:
        sales._cache["month"] = _by_day(sales, month_of)
    return sales._cache["month"]


def row_weeks(sales: SalesData) -> np.ndarray:
    """Week index of every row (cached)."""
    sales.finish()
    return _weeks(sales)


def row_months(sales: SalesData) -> np.ndarray:
    """Month index of every row (cached)."""
    sales.finish()
    return _months(sales)


@dataclass
class Pairs:
    """The (retailer, brand) combinations that occur in the data."""

    sales: SalesData
    retailer: np.ndarray  # per pair
    brand: np.ndarray  # per pair
    pair: np.ndarray  # per row: pair code

    def __len__(self) -> int:
        return len(self.retailer)

    def weekly(self, w0: int, w1: int, value: str = "quantity") -> np.ndarray:
        """(n_pairs, w1 - w0) totals per pair and week."""
        width = max(0, w1 - w0)
        weeks = row_weeks(self.sales)
        vals = as_float(self.sales, value)
        if len(weeks) and weeks.min() >= w0 and weeks.max() < w1:  # the usual call: every row in range, no copies
            flat = self.pair.astype(np.int64)
            flat *= width
            flat += weeks
            flat -= w0
        else:
            w = weeks - w0
            sel = (w >= 0) & (w < width)
            flat, vals = self.pair[sel].astype(np.int64) * width + w[sel], vals[sel]
        out = np.bincount(flat, weights=vals, minlength=len(self) * width)
        del flat
        out = out.reshape(len(self), width)
        return np.rint(out, out=out).astype(np.int64) if value == "quantity" else out


def pairs(sales: SalesData) -> Pairs:
    sales.finish()
    if "pairs" not in sales._cache:
        n_b = max(1, len(sales.brand_ids))
        cells = len(sales.retailer_ids) * n_b
        n = len(sales.retailer)

        if cells <= 50_000_000:
            # dense retailer × brand grid: O(rows), no sort; pairs come out ordered; each
            # row's cell (int32: the grid is small) made once, block by block, in the array
            # that then holds its pair
            seen = np.zeros(cells, bool)
            inv = np.empty(n, np.int32)
            for a in range(0, n, CHUNK):
                key = inv[a:a + CHUNK]
                np.multiply(sales.retailer[a:a + CHUNK], n_b, out=key, casting="unsafe")
                np.add(key, sales.brand[a:a + CHUNK], out=key, casting="unsafe")
                seen[key] = True
            uniq = np.flatnonzero(seen)
            at = np.full(cells, -1, np.int32)
            at[uniq] = np.arange(len(uniq), dtype=np.int32)
            for a in range(0, n, CHUNK):
                key = inv[a:a + CHUNK]
                np.take(at, key, out=key)
        else:
            key = sales.retailer.astype(np.int64) * n_b + sales.brand
            uniq, inv = np.unique(key, return_inverse=True)
        sales._cache["pairs"] = Pairs(sales, (uniq // n_b).astype(np.int32), (uniq % n_b).astype(np.int32), inv.astype(np.int32, copy=False))
    return sales._cache["pairs"]


def by_retailer(sales: SalesData) -> tuple[np.ndarray, np.ndarray]:
    """Row order grouped by retailer (then date, then file order) and the
    start offset of each retailer's rows (length n_retailers + 1)."""
    sales.finish()
    if "by_retailer" not in sales._cache:
        order = np.lexsort((np.arange(len(sales.day)), sales.day, sales.retailer))
        starts = np.searchsorted(sales.retailer[order], np.arange(len(sales.retailer_ids) + 1))
        sales._cache["by_retailer"] = (order, starts)
    return sales._cache["by_retailer"]


def manager_ids(records: Iterable[Any]) -> list[str]:
    """The customer managers the archives name (now or in their hand-overs), sorted: the codes of :func:`managers`."""
    records = list(records)
    return sorted({r.management.manager for r in records}
                  | {p.manager for r in records for p in r.management.manager_history})


class Attribution:
    """Which customer manager each sales row counts for, by the archives'
    ``manager_on(day)``: ``ids`` (:func:`manager_ids`), ``current`` (each
    retailer code's manager code, -1 without an archive) and ``handovers``
    (the retailers that changed hands: code → (day number until which, manager
    code), latest first, so that the earliest matching one is written last);
    :meth:`rows` gives every row's manager, :meth:`handed` those of the rows of
    retailers that changed hands (``moved``): the one place where hand-overs
    are looked up."""

    def __init__(self, retailer_ids: list[str], retailers: Mapping[str, Any]):
        self.ids = manager_ids(retailers.values())
        at = {m: i for i, m in enumerate(self.ids)}
        self.current = np.full(len(retailer_ids), -1, np.int32)
        self.handovers: list[tuple[int, list[tuple[int, int]]]] = []
        for code, rid in enumerate(retailer_ids):
            rec = retailers.get(rid)
            if rec is None:
                continue
            self.current[code] = at[rec.management.manager]
            if rec.management.manager_history:
                hands = sorted(rec.management.manager_history, key=lambda p: p.until, reverse=True)
                self.handovers.append((code, [(int(np.datetime64(p.until, "D").astype(np.int64)), at[p.manager])
                                              for p in hands]))
        self.moved = np.zeros(len(retailer_ids), bool)  # the retailers that changed hands
        by_key: dict[tuple[int, int], int] = {}
        for code, handed in self.handovers:
            self.moved[code] = True
            for until, manager in handed:  # (latest first: of two with the same day, the one written last counts)
                by_key[code, until] = manager
        order = sorted(by_key)
        # the hand-overs as one sorted key (code, until) and their managers: a row of a retailer that
        # changed hands counts for the first hand-over of its retailer whose `until` is after its day
        self._hand_key = np.array([(code << 32) + until + _HALF for code, until in order], np.int64)
        self._hand_manager = np.array([by_key[key] for key in order], np.int64)

    def rows(self, retailer: np.ndarray, day: np.ndarray, table: np.ndarray) -> np.ndarray:
        """``table[manager code + 1]`` of each row (``table[0]``: no archive) of
        these columns (retailer codes, days as datetime64[D])."""
        out = table[self.current + 1][retailer]
        if not self.handovers:
            return out
        # only the rows of retailers that changed hands (a few), found block by block: no per-row
        # temporaries beyond a few MB (np.isin made 100 MB ones)
        rows = np.concatenate([np.flatnonzero(self.moved[retailer[a:a + CHUNK]]) + a
                               for a in range(0, len(retailer), CHUNK)] or [np.zeros(0, np.int64)])
        out[rows] = self.handed(retailer[rows], day.view(np.int64)[rows], table)
        return out

    def handed(self, codes: np.ndarray, days: np.ndarray, table: np.ndarray) -> np.ndarray:
        """``table[manager code + 1]`` of rows of retailers that changed hands
        (``codes``: their retailer codes, ``days``: day numbers)."""
        codes = codes.astype(np.int64)
        key = self._hand_key
        at = np.searchsorted(key, (codes << 32) + days + _HALF, side="right")
        hit = at < len(key)
        at[~hit] = 0
        if len(key):
            hit &= key[at] >> 32 == codes
        manager = np.where(hit, self._hand_manager[at] if len(key) else 0, self.current[codes])
        return table[manager + 1]


_HALF = 1 << 31  # (a day number + this: never negative, below 2³²)


def managers(sales: SalesData, retailers: Mapping[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Per-row customer manager code (into the returned sorted id list; -1
    for rows of retailers without an archive), by ``manager_on(day)``
    (:class:`Attribution`). The rows' codes are kept until the archives name
    other managers (the rules and the site ask more than once): treat them as
    read-only."""
    sales.finish()
    who = Attribution(sales.retailer_ids, retailers)
    kept = sales._cache.get("managers")
    if (kept is not None and kept[0] == who.ids and kept[2] == who.handovers
            and np.array_equal(kept[1], who.current)):
        return kept[3], who.ids
    out = who.rows(sales.retailer, sales.day, np.arange(-1, len(who.ids), dtype=np.int32))
    sales._cache["managers"] = (who.ids, who.current, who.handovers, out)
    return out, who.ids
