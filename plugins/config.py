"""Options of the crmdocs MkDocs plugin (``plugins: - crmdocs: {...}``)."""

from __future__ import annotations

from mkdocs.config import config_options as opt
from mkdocs.config.base import Config

from .privacy import PROFILES


class CrmdocsConfig(Config):
    enabled = opt.Type(bool, default=True)

    # where the records are
    root = opt.Type(str, default=".")  # repository root holding records/, relative to mkdocs.yml

    # who reads the site: public masks every personal field (pages and search)
    profile = opt.Choice(PROFILES, default="public")

    # computation
    compute = opt.Type(bool, default=True)  # run the rules; False: pages over the raw records only
    jobs = opt.Type(int, default=1)  # processes for loading the records (0: one per CPU core)

    # pages
    nav = opt.Type(bool, default=True)  # build the reader nav when mkdocs.yml has none
    # what of the diaries search indexes: full (all text), summary (review, analyses,
    # market information; not the visit tables), headings (dates only), none
    search_diaries = opt.Choice(("full", "summary", "headings", "none"), default="summary")
    downloads = opt.Type(bool, default=True)  # .xlsx of each table's latest period, linked beside it
    commit = opt.Optional(opt.Type(str))  # the commit to state on the dashboard; default: git's HEAD
