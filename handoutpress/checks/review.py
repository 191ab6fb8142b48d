"""Review dates: whether a handout's clinical review is current, due soon or overdue.

A handout names the month (or the day) of its next review. It is on time until
the end of that month; within `DUE_SOON_DAYS` of that day it is due soon (a
warning); after it, overdue (an error). These depend on the day, so they are
worked out afresh on every run and never kept in the checks cache.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from handoutpress.errors import Problem
from handoutpress.load.content import HandoutFile, ReviewDate

DUE_SOON_DAYS = 60
LONGEST_REVIEW_CYCLE_DAYS = 3 * 365 + 1

CURRENT, DUE_SOON, OVERDUE = "current", "due-soon", "overdue"


def due_date(next_review: ReviewDate) -> date:
    """The last day a review is still on time: the day given, or the month's end."""
    if next_review.day:
        return next_review.first_day
    last = calendar.monthrange(next_review.year, next_review.month)[1]
    return date(next_review.year, next_review.month, last)


def review_status(item: HandoutFile, today: date) -> str:
    """`CURRENT`, `DUE_SOON` or `OVERDUE` on ``today``."""
    due = due_date(item.content.review.next_review)
    if today > due:
        return OVERDUE
    if today >= due - timedelta(days=DUE_SOON_DAYS):
        return DUE_SOON
    return CURRENT


def review_findings(item: HandoutFile, today: date) -> list[Problem]:
    """Review-date problems for one handout, each stating its dates."""
    review = item.content.review
    line = item.line_of("review", "next_review")
    out: list[Problem] = []
    status = review_status(item, today)
    if status == OVERDUE:
        out.append(
            Problem(
                item.path,
                f"review is overdue: next review was due {review.next_review}, today is {today.isoformat()}",
                line=line,
                field="review.next_review",
            )
        )
    elif status == DUE_SOON:
        out.append(
            Problem(
                item.path,
                f"review is due soon: next review {review.next_review} is within {DUE_SOON_DAYS} days of today ({today.isoformat()})",
                line=line,
                field="review.next_review",
                severity="warning",
            )
        )
    if review.reviewed.first_day > today:
        out.append(
            Problem(
                item.path,
                f"reviewed date {review.reviewed} is in the future (today is {today.isoformat()})",
                line=item.line_of("review", "reviewed"),
                field="review.reviewed",
            )
        )
    if (review.next_review.first_day - review.reviewed.first_day).days > LONGEST_REVIEW_CYCLE_DAYS:
        out.append(
            Problem(
                item.path,
                f"next review {review.next_review} is more than 3 years after the review ({review.reviewed})",
                line=line,
                field="review.next_review",
                severity="warning",
            )
        )
    return out
