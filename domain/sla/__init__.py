"""Service levels: SLA policies, the clocks they put on tickets, and their history.

The core (:mod:`policies`, :mod:`clocks`, :mod:`sheet`) is pure: given a policy and what
happened to a ticket, it says which metric instances run, when each is due, and what changed.
"""
