"""Git history of the records: when each file was handed in, who changed what.

Stub until the Git-workflow work lands: ``handed_in_times`` answers None
(no history known), which the rules report as "unknown", never as late.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional


def handed_in_times(root: Path) -> Optional[dict[str, dt.datetime]]:
    """First-commit time of each file under ``records/`` (path relative to
    ``root``, "/" separated, local office time, naive), merged with the times
    imported from the old system (``records/handed-in.csv``). None when there
    is no git history at all (a tarball)."""
    return None
