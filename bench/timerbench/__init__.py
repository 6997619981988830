"""The pieces of ``bench/timers.py``: the workload (real workflow runs), the databases, the
processes (Redis, ``crm scheduler``, ``crm worker``) and the results."""
