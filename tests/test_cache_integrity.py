"""The caches under ``.cache/crmdocs/`` carry a checksum of their bytes
(``repository.seal``): a flipped byte anywhere in the validation report, its
delta, a parsed-data shard or the sales arrays, a file cut short or another
cache's file in its place is never used — the run gives exactly what the
plain run gives, without a traceback — and the next write repairs it. And
the sales arrays, kept narrower than in memory, come back bit for bit with
the types ``SalesData`` has."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from conftest import DIARY, TODAY, MiniRepo, codes
from crmdocs.scripts import cache, repository
from crmdocs.scripts.cache import CACHE_FILE, DELTA_NAME, validate_report
from crmdocs.scripts.repository import PARSED_DIR, SALES_CACHE, seal, unsealed
from crmdocs.scripts.validate import validate, validate_plain

BIG_SALES = "sales/2026-10.csv"
COLUMNS = ("day", "retailer", "brand", "quantity", "amount", "file_of", "line")


def big_sales(mini: MiniRepo, rows: int = 12000, seed: int = 7) -> None:
    """A month of sales in no particular order, so that the arrays are kept
    as narrow bytes (not as runs): odd amounts, a quantity of thousands."""
    rnd = random.Random(seed)
    lines = ["date,retailer,brand,quantity,amount"]
    for _ in range(rows):
        day = dt.date(2026, 10, rnd.randint(1, 31))
        quantity = rnd.choice([1, 2, 5, 10, 30, 4000])
        amount = round(quantity * rnd.choice([12.5, 19.9, 33.33, 120.0]), 2)
        lines.append(f"{day},r-000{rnd.randint(1, 3)},{rnd.choice(['b-hongtashan', 'b-yunyan'])},{quantity},{amount}")
    mini.write(BIG_SALES, "\n".join(lines) + "\n")


def same_sales(a, b) -> None:
    """Bit for bit, with the same dtypes (numpy's own for the numbers)."""
    for column in COLUMNS:
        x, y = getattr(a, column), getattr(b, column)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), column
        if x.dtype.kind != "M":
            assert x.dtype is np.dtype(x.dtype.str), column
    assert (a.retailer_ids, a.brand_ids, a.files) == (b.retailer_ids, b.brand_ids, b.files)


def assert_plain(mini: MiniRepo, repo, report) -> None:
    plain_repo, plain_report = validate_plain(mini.root, today=TODAY)
    assert report.to_text() == plain_report.to_text()
    for name in ("retailers", "plans", "diaries", "complaints", "people"):
        assert getattr(repo, name) == getattr(plain_repo, name), name
    same_sales(repo.sales, plain_repo.sales)


@pytest.fixture
def warm(mini) -> MiniRepo:
    """Every cache written: report, delta (a diary added after it), shards, sales arrays."""
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))  # a problem the report keeps
    big_sales(mini)
    mini.age()
    validate_report(mini.root, today=TODAY)
    validate(mini.root, today=TODAY)
    mini.write("diaries/cm-li/2026/2026-09-02.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-02"))
    mini.age()
    validate_report(mini.root, today=TODAY)  # the new diary: into the delta
    validate(mini.root, today=TODAY)
    assert (mini.root / CACHE_FILE.with_name(DELTA_NAME)).is_file()
    return mini


def diary_shard(mini: MiniRepo):
    return mini.root / PARSED_DIR / repository._unit_name(f"records/{DIARY}".rpartition("/")[0])


TARGETS = {
    "report": lambda mini: mini.root / CACHE_FILE,
    "delta": lambda mini: mini.root / CACHE_FILE.with_name(DELTA_NAME),
    "shard": diary_shard,
    "sales": lambda mini: mini.root / SALES_CACHE,
}


def test_every_cache_file_is_sealed(warm):
    files = [path(warm) for path in TARGETS.values()] + list((warm.root / PARSED_DIR).iterdir())
    for path in files:
        data = path.read_bytes()
        if path.name == SALES_CACHE.name:  # the header is sealed, each array has its checksum inside it
            assert data.count(repository.SEAL) >= 1
        else:
            assert unsealed(data) is not None, path


def test_seal_finds_every_flipped_byte_and_bit():
    body = bytes(range(256)) * 4
    sealed = seal(body)
    assert bytes(unsealed(sealed)) == body
    for at in range(0, len(sealed), 7):
        for bit in (0x01, 0x80):
            damaged = bytearray(sealed)
            damaged[at] ^= bit
            assert unsealed(bytes(damaged)) is None, at
    assert unsealed(sealed[:-1]) is None and unsealed(sealed + b"\n") is None and unsealed(b"") is None


def flip_middle(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x01
    return bytes(damaged)


def foreign(mini: MiniRepo, target: str) -> bytes:
    """Another cache's file (sealed, whole) for ``target``."""
    if target == "shard":  # another folder's shard
        return next(p for p in (mini.root / PARSED_DIR).iterdir() if p != diary_shard(mini)).read_bytes()
    if target == "report":
        return (mini.root / CACHE_FILE.with_name(DELTA_NAME)).read_bytes()
    if target == "delta":
        return (mini.root / CACHE_FILE).read_bytes()
    return diary_shard(mini).read_bytes()


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "another cache's file"])
def test_a_damaged_cache_file_is_not_used_and_is_repaired(warm, target, damage):
    path = TARGETS[target](warm)
    data = path.read_bytes()
    path.write_bytes({
        "flipped byte": lambda: flip_middle(data),
        "truncated": lambda: data[: len(data) // 2],
        "another cache's file": lambda: foreign(warm, target),
    }[damage]())
    code, out = warm.cli("validate")
    assert "Traceback" not in out and code == 1 and "unknown_retailer" in codes(validate_plain(warm.root, today=TODAY)[1])
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)
    # written afresh (the report by `crmdocs validate`, the others by validate()), and used again
    again = path.read_bytes()
    if target == "delta":
        assert not path.exists() or unsealed(again) is not None
    elif target != "sales":
        assert unsealed(again) is not None
    stats: dict = {}
    validate_report(warm.root, today=TODAY, stats=stats)
    assert stats["mode"] == "cached"
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


def replace_inside(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and data.count(old) >= 1, old
    return data.replace(old, new, 1)


def test_a_changed_digit_in_the_report_is_caught(warm):
    """A change that keeps the JSON valid and would change the report."""
    path = warm.root / CACHE_FILE
    data = path.read_bytes()
    path.write_bytes(replace_inside(data, b"r-9999", b"r-9998"))
    first = warm.cli("validate")
    assert "r-9998" not in first[1] and "r-9999" in first[1]
    stats: dict = {}
    report = validate_report(warm.root, today=TODAY, stats=stats)
    assert report.to_text() == validate_plain(warm.root, today=TODAY)[1].to_text()
    assert stats["mode"] == "cached"  # repaired by the command


def test_a_changed_retailer_in_a_shard_is_caught(warm):
    """A change inside a parsed mapping that would still unpickle."""
    path = diary_shard(warm)
    path.write_bytes(replace_inside(path.read_bytes(), b"r-0002", b"r-0003"))
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_a_changed_byte_among_the_sales_arrays_is_caught(warm, where):
    path = warm.root / SALES_CACHE
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x10
    path.write_bytes(bytes(data))
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


def sales_cache_serves(mini: MiniRepo) -> bool:
    """Whether the sales cache holds these sales files' arrays, whole and undamaged."""
    from array import array

    looked: tuple = ([], array("q"))
    rels, _ = repository.discover(mini.root, look=looked)
    sales, sales_looked, _, _ = repository.split_sales(rels, looked)
    kept = repository.SalesCache.probe(mini.root, sales, *sales_looked)
    return kept is not None and kept.load() is not None


@pytest.mark.parametrize("damage", ["flipped byte", "cut short", "grown"])
def test_damaged_sales_arrays_are_kept_again_once_read(warm, damage):
    """A sales cache damaged after its header (a byte flipped, a copy cut short) is
    not only passed over but written again once the files are read: else every
    later run maps, checks and drops it (recalc's side worker gives up on it) and
    reads the sales files, for as long as no sales file changes."""
    path = warm.root / SALES_CACHE
    data = path.read_bytes()
    assert sales_cache_serves(warm)
    path.write_bytes({
        "flipped byte": lambda: data[: len(data) * 2 // 3] + bytes([data[len(data) * 2 // 3] ^ 0x10]) + data[len(data) * 2 // 3 + 1 :],
        "cut short": lambda: data[: len(data) * 2 // 3],
        "grown": lambda: data + bytes(64),
    }[damage]())
    assert not sales_cache_serves(warm)
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)  # (the arrays read: from the files)
    assert sales_cache_serves(warm)
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


def test_another_office_s_sales_arrays_are_not_used(warm, tmp_path):
    from conftest import build_mini_repo

    other = MiniRepo(build_mini_repo(tmp_path / "other"))
    big_sales(other, seed=8)
    other.age()
    validate(other.root, today=TODAY)
    (warm.root / SALES_CACHE).write_bytes((other.root / SALES_CACHE).read_bytes())
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


# ---------------------------------------------------------------- narrower arrays


def test_the_sales_arrays_are_kept_narrow_and_come_back_bit_for_bit(warm):
    head = repository._shard_unpickler(__import__("io").BytesIO((warm.root / SALES_CACHE).read_bytes())).load()
    ways = {name: (way, kept) for name, _, _, way, _, kept, _ in head[7]}
    assert ways["retailer"] == ("int", "|u1") and ways["brand"] == ("int", "|u1")
    assert ways["quantity"] == ("int", "<u2") and ways["amount"][0] == "cents"
    assert ways["file_of"][0] == ways["line"][0] == "runs"
    rows = len(validate_plain(warm.root, today=TODAY)[0].sales.day)
    # the narrow bytes of the columns kept as offsets (the appraisals' sums read them), and the
    # image the worker maps (day 8, retailer 4, brand 4, quantity 8, amount 8 bytes a row):
    # no file/line (runs, in the header)
    narrow = sum(np.dtype(kept).itemsize for way, kept in ways.values() if way == "int")
    assert 4 <= narrow <= 5  # (retailer, brand, quantity; the day too when it is not a few runs)
    image, size = head[10]
    assert [name for name, _, _ in image] == ["day", "retailer", "brand", "quantity", "amount"]
    wide = (narrow + 32) * rows
    assert size == image[-1][1] + rows * 8 and wide <= size < wide + 5 * repository._IMAGE_ALIGN
    repo, report = validate(warm.root, today=TODAY)
    assert_plain(warm, repo, report)


def test_the_sales_arrays_are_read_only_views_of_the_cache(warm):
    """A rule that writes into a sales array fails loudly (the arrays are the mapped cache file)."""
    repo, _ = validate(warm.root, today=TODAY)
    for name in ("day", "retailer", "brand", "quantity", "amount"):
        array = getattr(repo.sales, name)
        assert not array.flags.writeable and array.flags.aligned, name
        with pytest.raises(ValueError):
            array[0] = array[1]
    assert (warm.root / SALES_CACHE).read_bytes()  # the file is untouched
    assert_plain(warm, repo, validate(warm.root, today=TODAY)[1])


def roundtrip(a: np.ndarray) -> tuple[str, np.ndarray]:
    way, params, body = repository._narrow(a)
    out = np.empty(len(a), dtype=np.dtype(a.dtype.str))
    if way == "runs":
        repository._widen_block(way, params, out, 0, None)
    else:
        for at in range(0, len(a), 5):  # in blocks, as the reading does
            block = body[at : at + 5]
            if way == "raw":
                out[at : at + 5] = block
            repository._widen_block(way, params, out, at, block)
    return way, out


@pytest.mark.parametrize("values, dtype, way", [
    ([0.1 + 0.2, 1.0], np.float64, "raw"),  # 0.30000000000000004 is no whole fen
    ([1e-3, 2.5], np.float64, "raw"),
    ([19.9, 33.33, 0.0, 10724.0, 31.8, 1e6], np.float64, "cents"),
    ([-0.0, 1.5], np.float64, "raw"),  # -0.0 would come back as 0.0: the check keeps it as it is
    ([3.0e13, 4.5], np.float64, "raw"),  # fen beyond 4 bytes
    ([5, 3, 9, 1, 2, 7] * 2000, np.int64, "int"),
    ([100_000, 100_003, 100_001, 100_200] * 2000, np.int32, "int"),  # an offset added as they widen
    ([-2**40, 2**40] * 3000, np.int64, "raw"),
    ([2**31 - 1, -2**31, 0] * 3000, np.int32, "raw"),
    ([7] * 10, np.int32, "runs"),
    (list(range(2, 30)) + list(range(2, 9)), np.int32, "runs"),
    ([], np.int64, "raw"),
])
def test_narrow_and_widen_give_every_value_back(values, dtype, way):
    a = np.array(values, dtype=dtype)
    got, out = roundtrip(a)
    assert got == way
    assert out.dtype == a.dtype and out.tobytes() == a.tobytes()


def test_days_come_back_as_days():
    rnd = np.random.default_rng(1)
    days = (np.datetime64("2026-01-01") + rnd.integers(0, 400, 9000)).astype("datetime64[D]")
    way, out = roundtrip(days)
    assert way == "int" and out.dtype == days.dtype and np.array_equal(out, days)
    way, out = roundtrip(np.sort(days))  # sorted by day: one run a day
    assert way == "runs" and np.array_equal(out, np.sort(days))


def test_a_float_column_read_from_the_cache_has_numpys_own_dtype(warm):
    repo, _ = validate(warm.root, today=TODAY)
    assert repo.sales.amount.dtype is np.dtype(np.float64) and repo.sales.quantity.dtype is np.dtype(np.int64)


def test_sales_that_crossed_a_process_have_numpys_own_dtypes(mini, monkeypatch):
    """Read in a worker and pickled over (no cache: `validate --no-cache`, a
    read-only checkout): numpy's own dtype objects, else np.add.at in the
    rules takes its slow path."""
    import pickle

    from crmdocs.scripts.repository import load
    from crmdocs.scripts.sales import SalesData

    sales = pickle.loads(pickle.dumps(SalesData.from_rows([("2026-09-01", "r-0001", "b-yunyan", 3, 540.0)])))
    for column in ("retailer", "brand", "quantity", "amount", "file_of", "line"):
        assert getattr(sales, column).dtype is np.dtype(getattr(sales, column).dtype.str), column
    big_sales(mini)
    monkeypatch.setattr(repository, "POOL_MIN", 1)  # workers even for a few files
    repo, _ = load(mini.root, jobs=2)  # the sales read by a worker
    assert repo.sales.amount.dtype is np.dtype(np.float64) and repo.sales.quantity.dtype is np.dtype(np.int64)
    same_sales(repo.sales, load(mini.root, jobs=1)[0].sales)


# ---------------------------------------------------------------- kinds by their first folder


def test_kind_of_looks_a_kind_up_by_its_first_folder_and_agrees_with_every_pattern():
    from crmdocs.scripts.kinds import KINDS, kind_of

    def every(rel):
        return next(((k.name, m.groupdict()) for k in KINDS if (m := k.match(rel))), None)

    paths = [k.example for k in KINDS] + [
        "policy.yml", "policy.yaml/x", "retailers/d-x/r-1/extra.yaml", "retailers/r-1.yaml", "sales/2026-09.csv",
        "README.md", "plans/cm-li/2026/2026-09-01.yml", "calendar", "", "/", "people/a/b.yaml", "diaries/2026-09-01.yaml",
        "tier-overrides/2026-10/r-1.yaml", "targets/2026-09.yaml", "computed/classes/2026-09.yaml", "Retailers/d/r.yaml",
    ]
    paths += [k.example.replace(k.top, k.top + "s", 1) for k in KINDS]
    for rel in paths:
        found = kind_of(rel)
        assert (found and (found[0].name, found[1].groupdict())) == every(rel), rel
    assert len({k.top for k in KINDS}) == len(KINDS)


def test_recalc_with_every_cache_damaged_agrees_with_what_it_computed_before(mini):
    big_sales(mini)
    mini.age()
    assert mini.cli("validate")[0] == 0
    code, out = mini.cli("recalc")  # the computed records, from good caches
    assert code == 0, out
    mini.age()
    assert mini.cli("recalc", "--check")[0] == 0  # every cache written and used
    caches = [mini.root / CACHE_FILE, mini.root / SALES_CACHE, *(mini.root / PARSED_DIR).iterdir()]
    assert len(caches) > 5
    for path in caches:
        data = path.read_bytes()
        if b"r-0002" in data:  # a change that would still load: another shop's visit
            data = data.replace(b"r-0002", b"r-0003", 1)
        path.write_bytes(flip_middle(data))
    code, out = mini.cli("recalc", "--check")
    assert code == 0 and "Traceback" not in out, out


def test_a_sales_file_removed_before_the_arrays_are_read_is_a_clear_error(warm):
    # (review7) validate() gives the sales arrays read on first use (a LazySales): when the arrays then cannot
    # be read, the files are — one removed meanwhile said 找不到 /tmp/…/2026-09.csv：请看路径是否写对
    from conftest import SALES
    from crmdocs.scripts.diagnostics import CrmdocsError

    validate_report(warm.root, today=TODAY)  # the checks' report kept: they need not read the sales
    repo, _ = validate(warm.root, today=TODAY)
    assert "_load" in vars(repo.sales)  # not read yet
    (warm.root / SALES_CACHE).write_bytes(b"")
    (warm.records / SALES).unlink()
    with pytest.raises(CrmdocsError, match=r"销售文件 records/sales/2026-09.csv 在计算过程中被删除了，请重新运行"):
        len(repo.sales)


@pytest.mark.parametrize("order", ["by day", "days backwards", "shuffled"])
def test_what_the_header_says_of_the_arrays_is_what_they_hold(mini, order):
    """The last day and whether the rows come in day order, taken from the sales cache's header
    (no pass over the rows), are what the arrays themselves give."""
    from crmdocs.scripts.rules.retail import in_day_order

    rows = [(dt.date(2026, 10, 1 + n % 31), f"r-000{1 + n % 3}", n) for n in range(600)]
    rows.sort(key=lambda row: row[0], reverse=order == "days backwards")
    if order == "shuffled":
        random.Random(3).shuffle(rows)
    mini.write(BIG_SALES, "date,retailer,brand,quantity,amount\n" + "".join(
        f"{day},{retailer},b-yunyan,{1 + n % 7},{10 + n}.5\n" for day, retailer, n in rows))
    mini.age()
    validate(mini.root, today=TODAY)  # the cache written
    repo, _ = validate(mini.root, today=TODAY)
    sales = repo.sales
    assert len(sales.day) and not sales.day.flags.writeable  # read from the cache
    ways = {a[0]: a[3] for a in repository._shard_unpickler(__import__("io").BytesIO((mini.root / SALES_CACHE).read_bytes())).load()[7]}
    assert ("in_day_order" in sales._cache) == (ways["day"] == "runs")
    assert sales._cache.get("in_day_order", in_day_order(sales.day)) is in_day_order(sales.day) is (order == "by day")
    assert sales._cache["last_day"] == sales.day.max().astype(dt.date) == sales.last_day()
