"""Row accounting for an ingest: every row read is used, rejected (with a reason) or ignored.

The invariant ``rows_read == rows_used + rows_rejected + rows_ignored`` is what lets an analyst
trust that nothing was lost; the rejected rows keep their original cells so they can be fixed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.common.errors import InputError
from forecasting.history.tables import RawTable

USED, REJECTED, IGNORED = 0, 1, 2


class RowLedger:
    """Tracks the fate of each raw row; the first reason given for a row is the one kept."""

    def __init__(self, raw: RawTable, strict: bool = True) -> None:
        self.raw = raw
        self.strict = strict
        n = len(raw.frame)
        self._status = np.full(n, USED, dtype=np.int8)
        self._reason = np.full(n, None, dtype=object)
        self._column = np.full(n, None, dtype=object)
        self._value = np.full(n, None, dtype=object)
        self.warnings: list[str] = list(raw.notes)
        self.noted: dict[str, int] = {}  # rows kept but warned about, by kind

    @property
    def active(self) -> np.ndarray:
        """Rows still in play (neither rejected nor ignored)."""
        return self._status == USED

    def reject(self, mask: np.ndarray | pd.Series, column: str | None, reason: str, values=None) -> int:
        """Reject rows that are still active; return how many were newly rejected."""
        hit = np.asarray(mask, dtype=bool) & self.active
        if hit.any():
            self._status[hit] = REJECTED
            self._reason[hit] = reason
            self._column[hit] = column
            if values is not None:
                self._value[hit] = np.asarray(values, dtype=object)[hit]
        return int(hit.sum())

    def ignore(self, mask: np.ndarray | pd.Series, reason: str) -> int:
        hit = np.asarray(mask, dtype=bool) & self.active
        self._status[hit] = IGNORED
        self._reason[hit] = reason
        return int(hit.sum())

    def fail_or_reject(
        self, mask: np.ndarray | pd.Series, column: str, reason: str, expected: str, values=None
    ) -> int:
        """A defect that makes the file malformed: fatal in strict mode, a rejection otherwise."""
        hit = np.asarray(mask, dtype=bool) & self.active
        if not hit.any():
            return 0
        if self.strict:
            first = int(np.flatnonzero(hit)[0])
            found = None if values is None else np.asarray(values, dtype=object)[first]
            extra = int(hit.sum()) - 1
            more = (
                f" ({extra} more rows like it; <<reject_bad_rows>> rejects them instead)"
                if extra
                else " (<<reject_bad_rows>> rejects such rows instead)"
            )
            raise InputError(
                reason + more,
                path=self.raw.path,
                row=self.raw.row_number(first),
                column=column,
                expected=expected,
                found=found,
            )
        return self.reject(hit, column, reason, values)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def note(self, kind: str, count: int, message: str) -> None:
        """Rows used but unusual (a handle time of 0, a wait of days): warned and counted."""
        self.noted[kind] = self.noted.get(kind, 0) + count
        self.warn(message)

    # --- reporting -------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {
            "rows_read": int(self._status.size),
            "rows_used": int((self._status == USED).sum()),
            "rows_rejected": int((self._status == REJECTED).sum()),
            "rows_ignored": int((self._status == IGNORED).sum()),
        }

    def reasons(self, status: int) -> dict[str, int]:
        picked = pd.Series(self._reason[self._status == status], dtype=object)
        return {str(k): int(v) for k, v in picked.value_counts().items()}

    def nothing_usable(self, expected: str) -> InputError:
        """The error when every row was rejected, naming the commonest reason with its first
        row, column and value (a bare 'no usable rows' sent the user to a file to find out)."""
        hit = np.flatnonzero(self._status == REJECTED)
        if not len(hit):
            return InputError("no usable rows", path=self.raw.path, expected=expected, rejected=self)
        reasons = pd.Series(self._reason[hit], dtype=object)
        top = reasons.value_counts().index[0]
        first = hit[int(np.flatnonzero(reasons.to_numpy() == top)[0])]
        count = int((reasons == top).sum())
        others = len(hit) - count
        text = f"no usable rows: {count:,} rejected as '{top}'" + (
            f", {others:,} for other reasons" if others else ""
        )
        return InputError(
            text + " (all in rejected.csv)",
            path=self.raw.path,
            row=int(self.raw.line[first]),
            column=self._column[first] or None,
            expected=expected,
            found=self._value[first],
            rejected=self,
        )

    def rejected_rows(self) -> pd.DataFrame:
        """Rejected rows with their line number, column, reason and the original cells."""
        hit = self._status == REJECTED
        original = (  # taking no rows of a very wide table is slow; an empty frame is not
            self.raw.frame.loc[hit]
            if hit.any()
            else pd.DataFrame(columns=self.raw.frame.columns, dtype=object)
        )
        head = pd.DataFrame(
            {
                "row": self.raw.line[hit].to_numpy(),
                "column": self._column[hit],
                "reason": self._reason[hit],
                "value": self._value[hit],
            },
            index=original.index,
        )
        clash = [c for c in original.columns if c in head.columns]
        original = original.rename(columns={c: f"input_{c}" for c in clash})
        return pd.concat([head, original], axis=1).reset_index(drop=True)
