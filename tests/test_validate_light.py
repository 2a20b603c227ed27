"""``validate()`` with ``jobs`` > 1 when the caches answer everything (the
warm ``crmdocs recalc``): nothing to parse and the validation cache and the
sales cached — the report is read here and no worker process is started;
the same repository and report as with a worker. Anything to parse, or the
sales not cached, and the workers start as before."""

from __future__ import annotations

import concurrent.futures

import pytest

from conftest import DIARY, TODAY, warm_caches
from crmdocs.scripts import repository
from crmdocs.scripts.validate import validate, validate_plain


@pytest.fixture
def pools(monkeypatch):
    """How many worker pools loading started."""
    started: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    def counting(*args, **kwargs):
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counting)
    monkeypatch.setattr(repository, "POOL_MIN", 1)  # workers even for a few files
    return started


warm = warm_caches  # ``crmdocs validate``, then one recalc-style load


def test_a_warm_load_starts_no_worker_and_gives_the_same_answer(mini, pools):
    warm(mini)
    pools.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=2, facts=True)
    assert pools == []
    plain_repo, plain_report = validate_plain(mini.root, today=TODAY)
    assert report.to_text() == plain_report.to_text() and report.files == plain_report.files
    assert len(repo.sales) == len(plain_repo.sales) > 0
    one, _ = validate(mini.root, today=TODAY, jobs=1, facts=True)
    assert repo.digests == one.digests and repo.sources == one.sources


def test_a_file_to_parse_means_workers(mini, pools):
    warm(mini)
    mini.write("diaries/cm-li/2026/2026-09-02.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-02"))
    pools.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=2, facts=True)
    assert pools == [1]
    assert report.to_text() == validate_plain(mini.root, today=TODAY)[1].to_text()


def test_sales_not_cached_means_a_worker_reads_them(mini, pools):
    warm(mini)
    (mini.root / repository.SALES_CACHE).unlink()
    pools.clear()
    repo, report = validate(mini.root, today=TODAY, jobs=2, facts=True)
    assert pools == [1]
    assert len(repo.sales) == len(validate_plain(mini.root, today=TODAY)[0].sales) > 0


def test_the_validation_cache_is_marshal_data_and_gives_the_chinese_messages_back(mini):
    import marshal

    from crmdocs.scripts.cache import CACHE_FILE
    from crmdocs.scripts.repository import unsealed

    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))  # a check's problem, in Chinese
    mini.age()
    code, first = mini.cli("validate")
    data = marshal.loads(unsealed((mini.root / CACHE_FILE).read_bytes()))  # (read back at C speed)
    files = marshal.loads(data["files"])  # (the daily files' entries: marshal data of their own, read when needed)
    assert code == 1 and any("零售户" in row[4] for entry in files.values() for row in entry[4] or ())
    code, again = mini.cli("validate")  # from the cache
    assert code == 1 and again == first and "零售户" in again
