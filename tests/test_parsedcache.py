"""The parsed-data cache of ``validate()`` (scripts/repository.py,
``.cache/crmdocs/parsed/``): a warm load takes each unchanged file's parsed
mapping from its folder's shard instead of reading and parsing it — and
gives exactly the plain run's repository and report, after edits, new and
removed files, touched files, and with shards damaged, forged or unwritable."""

from __future__ import annotations

import os
import pickle

import pytest

from conftest import DIARY, PLAN, RETAILER, TODAY, MiniRepo, codes
from crmdocs.scripts import repository
from crmdocs.scripts.cache import validate_report
from crmdocs.scripts.repository import PARSED_DIR
from crmdocs.scripts.validate import validate
from test_fastload import assert_plain, break_some

def shards(mini: MiniRepo) -> dict[str, int]:
    folder = mini.root / PARSED_DIR
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} if folder.is_dir() else {}


class Log:
    """Names logged by this process and by forked workers (a file: both write to it)."""

    def __init__(self, path):
        self.path = path
        path.write_text("")

    def add(self, rel: str) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(rel + "\n")

    def __iter__(self):
        return iter(self.path.read_text(encoding="utf-8").split())

    def __eq__(self, other):
        return list(self) == other

    def __bool__(self):
        return bool(list(self))

    def clear(self) -> None:
        self.path.write_text("")


@pytest.fixture
def parses(monkeypatch, tmp_path):
    """The files parsed (by name), in any process."""
    log = Log(tmp_path / "parsed.log")
    real = repository.parse_raw

    def counting(rel, kind, data):
        log.add(rel)
        return real(rel, kind, data)

    monkeypatch.setattr(repository, "parse_raw", counting)
    return log


@pytest.fixture
def reads(monkeypatch, tmp_path):
    """The files read by the loading (by name), in any process."""
    log = Log(tmp_path / "read.log")
    real = repository._read_signed

    def counting(root, rel):
        log.add(rel)
        return real(root, rel)

    monkeypatch.setattr(repository, "_read_signed", counting)
    return log


@pytest.fixture(params=[1, 2], ids=["here", "workers"])
def jobs(request, monkeypatch):
    monkeypatch.setattr(repository, "POOL_MIN", 1)  # workers even for a few files
    return request.param


def test_a_warm_load_neither_reads_nor_parses_and_equals_the_plain_run(mini, jobs, parses, reads):
    break_some(mini)
    mini.age()
    validate_report(mini.root, today=TODAY)  # what `crmdocs validate` leaves behind
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)
    assert shards(mini)
    parses.clear()
    reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    # only the files with problems are read again (their messages need lines)
    assert set(parses) == set(reads) == {
        "records/plans/cm-li/2026/2026-09-02.yaml", "records/complaints/2026/c-bad.yaml",
        "records/diaries/cm-li/2026/2026-09-07.yaml", "records/retailers/d-west/r-0001.yaml",
    }
    assert_plain(mini, repo, report)
    assert {"yaml", "missing", "name_mismatch", "duplicate", "unknown_retailer"} <= set(codes(report))


def test_an_edited_file_is_parsed_again(mini, jobs, parses):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))
    parses.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert parses == [f"records/{DIARY}"]
    assert "unknown_retailer" in codes(report)
    assert_plain(mini, repo, report)


def test_new_and_removed_files(mini, jobs):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    mini.write("plans/cm-li/2026/2026-09-02.yaml", mini.text(PLAN).replace("2026-09-01", "2026-09-02"))
    mini.delete(RETAILER)
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)
    assert "unknown_retailer" in codes(report)
    mini.delete("plans/cm-li/2026/2026-09-02.yaml")
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)


def test_a_touched_file_is_read_but_not_parsed(mini, jobs, parses, reads):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    os.utime(mini.path(DIARY))  # modified now, the same bytes
    parses.clear()
    reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert reads == [f"records/{DIARY}"] and parses == []
    assert_plain(mini, repo, report)


def test_files_modified_just_before_the_shard_was_written_are_read_again(mini, parses, reads):
    validate(mini.root, today=TODAY)  # the files are seconds old: not trusted by their signature
    parses.clear()
    validate(mini.root, today=TODAY)
    assert reads and parses == []  # read and compared by their bytes


def test_a_folder_s_change_rewrites_that_folder_s_shard_alone(mini, jobs):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    before = shards(mini)
    validate(mini.root, today=TODAY, jobs=jobs)
    assert shards(mini) == before  # nothing changed: nothing written
    mini.write("diaries/cm-li/2026/2026-09-02.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-02"))
    validate(mini.root, today=TODAY, jobs=jobs)
    after = shards(mini)
    assert after.keys() == before.keys()
    assert [name for name in after if after[name] != before[name]] == [repository._unit_name(f"records/{DIARY}".rpartition("/")[0])]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "header only", "another folder's", "wrong version"])
def test_a_damaged_shard_means_parsing(mini, jobs, parses, damage):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    folder = mini.root / PARSED_DIR
    name = repository._unit_name(f"records/{DIARY}".rpartition("/")[0])
    data = (folder / name).read_bytes()
    other = next(p for p in folder.iterdir() if p.name != name)
    head = pickle.loads(data)
    replaced = {
        "garbage": b"\x80\x05not a pickle at all",
        "truncated": data[: len(data) * 3 // 4],
        "empty": b"",
        "header only": repository.seal(pickle.dumps(head)),  # sealed: the content is judged
        "another folder's": other.read_bytes(),
        "wrong version": repository.seal(
            pickle.dumps((head[0], "0" * 40, *head[2:])) + repository.unsealed(data)[len(pickle.dumps(head)) :]
        ),
    }[damage]
    (folder / name).write_bytes(replaced)
    parses.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert f"records/{DIARY}" in list(parses)
    assert_plain(mini, repo, report)
    parses.clear()
    validate(mini.root, today=TODAY, jobs=jobs)  # written afresh
    assert parses == []


class _Runs:
    """Pickled, it calls os.system when loaded by a plain unpickler."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_forged_shard_runs_no_code(mini, tmp_path):
    mini.age()
    validate(mini.root, today=TODAY)
    folder = mini.root / PARSED_DIR
    name = repository._unit_name(f"records/{DIARY}".rpartition("/")[0])
    head = pickle.loads((folder / name).read_bytes())
    marker = tmp_path / "ran"
    (folder / name).write_bytes(repository.seal(pickle.dumps(head) + pickle.dumps([_Runs(marker)] * len(head[4]))))
    repo, report = validate(mini.root, today=TODAY)
    assert not marker.exists()
    assert_plain(mini, repo, report)
    with pytest.raises(pickle.UnpicklingError):
        repository._shard_unpickler(__import__("io").BytesIO(pickle.dumps(_Runs(marker)))).load()


def test_unquoted_digits_come_back_as_such(mini):
    mini.age()
    mini.replace(RETAILER, 'phone: "13812345678"', "phone: 013812345678")
    _, first = validate(mini.root, today=TODAY)
    repo, report = validate(mini.root, today=TODAY)
    assert "text_needs_quotes" in codes(report) and report.to_text() == first.to_text()
    assert_plain(mini, repo, report)


def test_an_unwritable_cache_folder_loads_all_the_same(mini, jobs):
    mini.age()
    (mini.root / ".cache" / "crmdocs").mkdir(parents=True)
    (mini.root / PARSED_DIR).write_text("a file where the folder should be")
    (mini.root / repository.SALES_CACHE).mkdir()  # a folder where the file should be
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)


def test_shards_of_folders_gone_and_a_killed_run_s_files_are_removed(mini):
    import subprocess

    mini.age()
    validate(mini.root, today=TODAY)
    folder = mini.root / PARSED_DIR
    gone = subprocess.Popen(["true"])
    gone.wait()
    leftover = folder / f"tmp-{gone.pid}-abcd.tmp"
    leftover.write_bytes(b"half a shard")
    running = folder / f"tmp-{os.getppid()}-abcd.tmp"  # a run still going
    running.write_bytes(b"being written")
    analyses = repository._unit_name("records/analyses/cm-li/2026")
    assert (folder / analyses).exists()
    for path in (mini.root / "records" / "analyses").rglob("*.yaml"):
        path.unlink()
    validate(mini.root, today=TODAY)
    assert not leftover.exists() and running.exists()
    assert not (folder / analyses).exists()


def test_validate_without_cache_writes_no_shard(mini):
    validate(mini.root, today=TODAY, use_cache=False)
    assert not (mini.root / PARSED_DIR).exists()


# ---------------------------------------------------------------- the sales, kept as arrays

SALES = "sales/2026-09.csv"


@pytest.fixture
def sales_reads(monkeypatch, tmp_path):
    """The sales files read as CSV, in any process."""
    from crmdocs.scripts import sales

    log = Log(tmp_path / "sales.log")
    real = sales.read_sales_csv

    def counting(data, rel, *args, **kwargs):
        log.add(rel)
        return real(data, rel, *args, **kwargs)

    monkeypatch.setattr(sales, "read_sales_csv", counting)
    return log


def test_the_sales_are_read_once_then_kept(mini, jobs, sales_reads):
    mini.age()
    mini.replace(SALES, "2026-09-08,r-0003,b-hongtashan,8,960.0", "2026-09-08,r-0003,b-hongtashan,eight,960.0")  # a problem
    validate_report(mini.root, today=TODAY)  # crmdocs validate reads them (once) and keeps them for recalc
    assert list(sales_reads) == [f"records/{SALES}"]
    assert (mini.root / repository.SALES_CACHE).exists()
    sales_reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert sales_reads == []
    (mini.root / repository.SALES_CACHE).unlink()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert list(sales_reads) == [f"records/{SALES}"]
    assert (mini.root / repository.SALES_CACHE).exists()
    sales_reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert sales_reads == []
    assert_plain(mini, repo, report)
    assert any(d.path == f"records/{SALES}" for d in report.diagnostics)
    assert repo.sales.amount.dtype is __import__("numpy").dtype("float64")


def test_changed_touched_and_new_sales_files(mini, jobs, sales_reads):
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    mini.replace(SALES, "2026-09-01,r-0001,b-hongtashan,10,1200.0", "2026-09-01,r-0001,b-hongtashan,12,1440.0")
    sales_reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert list(sales_reads) == [f"records/{SALES}"]
    assert_plain(mini, repo, report)
    mini.age()
    sales_reads.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)  # touched: compared by its bytes
    assert sales_reads == []
    assert_plain(mini, repo, report)
    mini.write("sales/2026-10.csv", "date,retailer,brand,quantity,amount\n2026-10-08,r-0002,b-yunyan,3,540.0\n")
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)
    assert len(repo.sales.day) == len(validate(mini.root, today=TODAY, use_cache=False)[0].sales.day)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "longer", "empty"])
def test_a_damaged_sales_cache_means_reading(mini, sales_reads, damage):
    mini.age()
    validate(mini.root, today=TODAY)
    path = mini.root / repository.SALES_CACHE
    data = path.read_bytes()
    path.write_bytes({"garbage": b"\x80\x05junk", "truncated": data[:-9], "longer": data + b"\0", "empty": b""}[damage])
    sales_reads.clear()
    repo, report = validate(mini.root, today=TODAY)
    assert list(sales_reads) == [f"records/{SALES}"]
    assert_plain(mini, repo, report)


def test_a_killed_run_s_half_written_sales_cache_is_removed(mini):
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    folder = mini.root / repository.SALES_CACHE.parent
    folder.mkdir(parents=True)
    leftover = folder / f".sales.arrays.{gone.pid}-abcd.tmp"
    leftover.write_bytes(b"\0" * 1000)
    repo, report = validate(mini.root, today=TODAY)
    assert not leftover.exists() and (mini.root / repository.SALES_CACHE).exists()
    assert_plain(mini, repo, report)


def test_a_sales_cache_replaced_after_it_was_judged_is_not_mixed_in(mini, monkeypatch):
    """Another run rewrites the cache for other sales between this run's look and its read."""
    mini.age()
    validate(mini.root, today=TODAY)
    path = mini.root / repository.SALES_CACHE
    real = repository.SalesCache.probe

    def then_replaced(*args, **kwargs):
        kept = real(*args, **kwargs)
        other = path.with_name("other")
        other.write_bytes(b"\0" * path.stat().st_size)  # the same size, other bytes
        other.replace(path)
        return kept

    monkeypatch.setattr(repository.SalesCache, "probe", then_replaced)
    repo, report = validate(mini.root, today=TODAY)
    assert_plain(mini, repo, report)


def test_an_out_of_date_shard_is_read_once(mini, jobs, parses, tmp_path, monkeypatch):
    """The loading process reads and judges each folder's shard before any
    worker starts; the worker that loads the folder takes it from there."""
    mini.age()
    validate(mini.root, today=TODAY, jobs=jobs)
    opened = Log(tmp_path / "opened.log")
    real = repository._open_shard

    def logged(path, folder):
        opened.add(os.path.basename(path) if path else "-")
        return real(path, folder)

    monkeypatch.setattr(repository, "_open_shard", logged)
    from concurrent.futures import Future

    monkeypatch.setattr(Future, "cancel", lambda self: False)  # the worker loads the folder, not this process
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))
    parses.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert parses == [f"records/{DIARY}"]
    name = repository._unit_name(f"records/{DIARY}".rpartition("/")[0])
    assert list(opened).count(name) == 1
    assert_plain(mini, repo, report)


def test_a_file_on_another_device_never_passes_for_the_recorded_one(tmp_path):
    # recalc --diff's tree in /dev/shm gets a copy of the caches: a file there with
    # the same size, modification time and inode as a recorded one is still another file
    from crmdocs.scripts.repository import stat_signature

    (tmp_path / "a.yaml").write_text("x: 1\n")
    st = os.stat(tmp_path / "a.yaml")
    fields = list(st)
    fields[2] = st.st_dev + 1  # st_dev
    elsewhere = os.stat_result(tuple(fields), {"st_mtime_ns": st.st_mtime_ns})
    assert (elsewhere.st_size, elsewhere.st_mtime_ns, elsewhere.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert stat_signature(elsewhere) != stat_signature(st)
