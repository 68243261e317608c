"""foi-workflow: case management for 依申请公开 under the Regulation on the Disclosure of Government Information."""

__version__ = "0.1.0"
