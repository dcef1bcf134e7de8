"""Sign-off's domain: exemplar types (data), the exemplar aggregate with its versions and
signatures, who may do what, workflow messages, the chronology and timeliness. Plain Python:
no web framework, database or broker import lives under this package."""
