"""Pure rules: calendar, clock, workflow definition, outcomes, report maths.

Nothing in this package imports sqlmodel, jinja2, aiosmtplib, apscheduler or click.
"""
