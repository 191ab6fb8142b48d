"""Tests of the web edition (the pages, the edition pages, the browser checks); a package, so its
test modules may share a name with another room's (tests/frontdesk/test_browser.py)."""
