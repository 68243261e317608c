"""One function per use case: intake, advance, import, report, sweep."""
