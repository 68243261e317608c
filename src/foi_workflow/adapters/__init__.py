"""The world: database tables and repository, mailer, notice and report renderers."""
