"""Everything that speaks HTTP to CodeArts Check and IAM, one module per job.

- ``transport``: the session, bounded reads, retries and the deadline;
- ``iam``: the password login;
- ``refresh``: the report refresh the gate judges;
- ``tasks``: run a check task, its progress, stop it, its check log;
- ``scan``: run (or join) the scan, wait for it (``gate.waiting``), refresh its report.
- ``defects``: the defects behind the counts, paged (defects-detail, defects-statistic).
"""
