"""`crmdocs recalc --diff REV` holds one computation at a time: each side is
reduced, as soon as it is computed, to the fields the reviewer's summary
reads (:func:`recalc.reviewed`), and its models are freed before the other
side is computed — with the same summary as from the models."""

import contextlib
import weakref

import pytest

from conftest import run_cli
from test_recalc_diff_shared import bigger_shop, committed, more_sales, other_floor

from crmdocs.scripts import recalc


@pytest.mark.parametrize("everything", [False, True])
@pytest.mark.parametrize("change", [more_sales, other_floor, bigger_shop])
def test_the_reduced_fields_give_the_review_the_models_give(mini, change, everything):
    committed(mini)
    change(mini)
    old, new = recalc.computations(mini.root, "HEAD")
    order = new.ctx.policy.classes.ids()
    lines = recalc.review(old.records, new.records, order, everything=everything)
    reduced = recalc.review(recalc.reviewed(old.records), recalc.reviewed(new.records), order, everything=everything)
    assert reduced == lines
    if change is not bigger_shop:
        assert lines  # (something to compare: class, limit or score changes)


def test_the_reduction_keeps_only_what_review_reads(mini):
    committed(mini)
    _, new = recalc.computations(mini.root, "HEAD")
    fields = recalc.reviewed(new.records)
    assert set(fields) == set(new.records)  # every file, even one with nothing review reads (its presence counts)
    managers = [rel for rel in fields if rel.split("/")[1:2] == ["managers"]]
    assert managers and all(set(fields[rel]) <= set(recalc.MANAGER_FIELDS) for rel in managers)
    full = sum(len(recalc.flatten(r.model_dump(mode="json", by_alias=True))) for r in new.records.values())
    assert 0 < sum(map(len, fields.values())) < full / 2


def test_the_command_prints_what_review_of_the_models_says(mini):
    committed(mini)
    other_floor(mini)
    more_sales(mini)
    code, out = run_cli("--root", str(mini.root), "recalc", "--diff", "HEAD", "--all")
    assert code == 0, out
    old, new = recalc.computations(mini.root, "HEAD")
    repo, policy = new.ctx.repo, new.ctx.policy
    names = {c.id: c.name for c in policy.classes.rule.classes}
    names.update((g.id, g.name) for g in policy.grades.ladder)
    names.update((pid, p.name) for pid, p in repo.people.items())
    names.update((rid, r.basic.shop_name) for rid, r in repo.retailers.items())
    lines = recalc.review(old.records, new.records, policy.classes.ids(), everything=True, names=names)
    assert lines and out.splitlines()[1:] == lines  # (after the heading; the day did not move)
    assert "李明" in out


def test_the_working_tree_s_computation_is_freed_before_the_revision_s_is_made(mini, monkeypatch):
    committed(mini)
    other_floor(mini)
    made = []
    real_compute, real_tree = recalc.compute, recalc.tree_at

    def compute(root, **kwargs):
        computed = real_compute(root, **kwargs)
        made.append(weakref.ref(computed.ctx.repo))
        return computed

    @contextlib.contextmanager
    def tree_at(root, rev):
        made.append(made[0]() is None)  # the working tree's Repository (and its models) gone by now
        with real_tree(root, rev) as there:
            yield there

    monkeypatch.setattr(recalc, "compute", compute)
    monkeypatch.setattr(recalc, "tree_at", tree_at)
    old, new = recalc.computations(mini.root, "HEAD", reduce=lambda c: recalc.reviewed(c.records))
    assert made[1] is True and made[2]() is None
    assert isinstance(new, dict) and old.keys() == new.keys()
    assert recalc.review(old, new, ["a", "b", "c", "d", "e"])  # the floor moved: scores change


def test_the_quick_reading_of_retailer_files_keeps_what_flattening_keeps(mini):
    """reviewed() reads a retailer file's classes, tiers and limits without
    flattening all of it: the same fields, in the same order, as flattening
    everything and keeping what review reads — and odd shapes go that way."""
    committed(mini)
    more_sales(mini)
    _, new = recalc.computations(mini.root, "HEAD")

    def plain(rel, record):
        parts = rel.split("/")
        tops = recalc._MANAGER_TOPS if len(parts) == 3 and parts[1] == "managers" else recalc._RETAILER_TOPS
        dumped = record.model_dump(mode="json", by_alias=True)
        return {k: v for top in dumped if top in tops for k, v in recalc.flatten(dumped[top], top).items()
                if recalc._read_by_review(rel, k)}

    fields = recalc.reviewed(new.records)
    assert any(any(".brands." in k for k in f) for f in fields.values())
    for rel, record in new.records.items():
        assert list(fields[rel].items()) == list(plain(rel, record).items()), rel
    odd = {"r.1": {"class": "A"}, "r-2": {"class": "B", "brands": {"b": {"lower": 1}}}}
    assert not recalc._read_retailer_fields("retailers", odd, {})
    found: dict = {}
    assert recalc._read_retailer_fields("retailers", {"r-2": {"tier": 3, "total": {"upper": 5, "x": 1}, "class": {"a": 1}}}, found)
    assert found == {"retailers.r-2.tier": 3, "retailers.r-2.total.upper": 5}
