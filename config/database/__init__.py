"""PostgreSQL with a bound on every wait for an answer (see ``base``)."""
