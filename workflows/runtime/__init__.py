"""The durable runtime around the pure engine: timers claimed from SQL, Dramatiq actors that
carry ids only, the scheduler loop, the e-mail outbox and the domain-event relay.

Every unit of work is a plain async function here (tests call them directly); the Dramatiq
actors in :mod:`workflows.runtime.actors` are thin shims around them.
"""
