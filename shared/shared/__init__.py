"""The QA platform's shared library: what every service uses the same way.

Only infrastructure lives here (settings, event envelope and registry, transactional outbox,
consumer, MongoDB access, problem+json errors, the gateway-asserted identity, observability,
the working-days calendar). Domain rules never do: they belong to the service that owns them.
"""
