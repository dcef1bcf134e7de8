"""Running the whole system on one machine: for the README's one-command run and for the tests.

Starts (or finds) MongoDB and RabbitMQ, starts the five services as real uvicorn processes,
waits until each is ready, and stops everything cleanly. The tests use the same code, so what
the tests start is what a developer runs.
"""
