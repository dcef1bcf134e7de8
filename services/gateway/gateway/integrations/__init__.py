"""Integrator access: AMQP integrators and webhook endpoints (see domain.py)."""
