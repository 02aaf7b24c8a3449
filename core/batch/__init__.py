"""Batch rendering (issue 18): job files, and running jobs into folders with manifests."""

from .jobs import Job, JobFile, JobFileError, read_job_file  # noqa: F401
