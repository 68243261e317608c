"""`foi demo`: a sample agency and a year of its applications, played through the real workflow,
scheduler, mail, letters and report. Not part of the product a caseworker uses: its own package."""
