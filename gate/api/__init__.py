"""Everything that speaks HTTP to CodeArts Check and IAM, one module per job.

- ``transport``: the session, bounded reads, retries and the deadline;
- ``iam``: the password login;
- ``refresh``: the report refresh the gate judges;
- ``defects``: the defects behind the counts, paged (defects-detail, defects-statistic).
"""
